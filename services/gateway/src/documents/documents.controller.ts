import { randomUUID } from 'node:crypto';
import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  PayloadTooLargeException,
  Post,
  Req,
  Sse,
  UnsupportedMediaTypeException,
  UploadedFile,
  UseInterceptors,
  type MessageEvent,
} from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import { SERVICE_CONFIG } from '@rag/common';
import type { DocumentSubmitted } from '@rag/contracts';
import type { Request } from 'express';
import { map, type Observable } from 'rxjs';
import type { z, ZodTypeAny } from 'zod';
import type { GatewayConfig } from '../gateway.config';
import { DocumentStatusStore } from '../status/document-status.store';
import { resolveUploadContentType } from './content-type';
import { DocumentSubmitter } from './document-submitter';
import { submitFormSchema, submitJsonSchema } from './submit-document.dto';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface AcceptedResponse {
  documentId: string;
  version: number;
  status: 'accepted';
  statusUrl: string;
}

function parse<S extends ZodTypeAny>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new BadRequestException({
      error: 'invalid_request',
      message: result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
    });
  }
  return result.data;
}

@Controller('v1/documents')
export class DocumentsController {
  constructor(
    private readonly submitter: DocumentSubmitter,
    private readonly statuses: DocumentStatusStore,
    @Inject(SERVICE_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /** Multipart upload (field `file`) or JSON `{text, title?, metadata?, documentId?}`; 202 once Kafka has it. */
  @Post()
  @HttpCode(202)
  @UseInterceptors(FileInterceptor('file'))
  async submit(@Req() req: Request, @Body() body: unknown, @UploadedFile() file?: Express.Multer.File): Promise<AcceptedResponse> {
    const mediaType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const doc =
      mediaType === 'multipart/form-data'
        ? this.fromUpload(body, file)
        : mediaType === 'application/json'
          ? this.fromJson(body)
          : undefined;
    if (!doc) {
      throw new UnsupportedMediaTypeException({
        error: 'unsupported_media_type',
        message: `send multipart/form-data with a "file" field or application/json, not "${mediaType || 'nothing'}"`,
      });
    }
    await this.submitter.submit(doc);
    const base = this.config.PUBLIC_BASE_URL ?? `${req.protocol}://${req.get('host')}`;
    this.statuses.markSubmitted(doc);
    return {
      documentId: doc.documentId,
      version: doc.version,
      status: 'accepted',
      statusUrl: `${base}/v1/documents/${encodeURIComponent(doc.documentId)}`,
    };
  }

  @Get(':id')
  status(@Param('id') id: string) {
    const status = this.statuses.get(id);
    if (!status) throw new NotFoundException({ error: 'not_found', message: `no document ${id} is known (yet)` });
    return status;
  }

  /** Server-Sent Events: the status now, then on every change, until indexed or failed. */
  @Sse(':id/events')
  events(@Param('id') id: string): Observable<MessageEvent> {
    return this.statuses.watch(id).pipe(map((status) => ({ type: 'status', data: status })));
  }

  private fromJson(body: unknown): DocumentSubmitted {
    const input = parse(submitJsonSchema, body);
    const bytes = Buffer.from(input.text, 'utf8');
    this.checkContent(bytes);
    return this.document({ ...input, bytes, source: 'http-json' });
  }

  private fromUpload(body: unknown, file?: Express.Multer.File): DocumentSubmitted {
    if (!file) throw new BadRequestException({ error: 'invalid_request', message: 'multipart upload needs a "file" field' });
    const fields = parse(submitFormSchema, body ?? {});
    const contentType = resolveUploadContentType(file.mimetype, file.originalname);
    if (!contentType) {
      throw new UnsupportedMediaTypeException({
        error: 'unsupported_media_type',
        message: `file type "${file.mimetype}" (${file.originalname}) is not supported; send text/plain, text/markdown, text/html or application/json`,
      });
    }
    this.checkContent(file.buffer);
    try {
      utf8.decode(file.buffer);
    } catch {
      throw new BadRequestException({ error: 'invalid_encoding', message: 'file is not valid UTF-8 text' });
    }
    if (contentType === 'application/json') {
      try {
        JSON.parse(file.buffer.toString('utf8'));
      } catch (err) {
        throw new BadRequestException({ error: 'invalid_json', message: `file is not valid JSON: ${(err as Error).message}` });
      }
    }
    return this.document({ ...fields, contentType, bytes: file.buffer, title: fields.title ?? file.originalname, source: 'http-upload' });
  }

  private checkContent(bytes: Buffer): void {
    if (bytes.length > this.config.MAX_DOCUMENT_BYTES) {
      throw new PayloadTooLargeException({
        error: 'too_large',
        message: `document is ${bytes.length} bytes, the limit is ${this.config.MAX_DOCUMENT_BYTES}`,
      });
    }
    if (bytes.toString('utf8').trim().length === 0) {
      throw new BadRequestException({ error: 'empty_document', message: 'document has no text' });
    }
  }

  private document(input: {
    bytes: Buffer;
    contentType: string;
    title?: string;
    documentId?: string;
    version?: number;
    metadata: Record<string, string>;
    source: string;
  }): DocumentSubmitted {
    const now = Date.now();
    return {
      documentId: input.documentId ?? randomUUID(),
      version: input.version ?? now,
      title: input.title ?? null,
      contentType: input.contentType,
      content: input.bytes,
      source: input.source,
      metadata: input.metadata,
      submittedAt: now,
    };
  }
}
