import { randomUUID } from 'node:crypto';
import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  PayloadTooLargeException,
  Post,
  Query,
  Req,
  Sse,
  UnsupportedMediaTypeException,
  UploadedFile,
  UseGuards,
  UseInterceptors,
  HttpException,
  HttpStatus,
  type MessageEvent,
} from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { ROOT_LOGGER, SERVICE_CONFIG } from '@rag/common';
import {
  baseContentType,
  CONTENT_TYPES,
  contentMismatch,
  DEFAULT_TENANT,
  FORMAT_NAMES,
  isBinaryContentType,
  resolveUploadContentType,
  sniffContent,
  tenantOf,
  type BinaryContentType,
  type ContentType,
  type DocumentSubmitted,
} from '@rag/contracts';
import { DocumentRegistry, InvalidCursorError, toDocumentStatus, versionStatus } from '@rag/document-registry';
import type { Logger } from 'pino';
import type { Request } from 'express';
import { finalize, interval, map, merge, Subject, takeUntil, timer, type Observable } from 'rxjs';
import { ALL_TENANTS, type Principal } from '@rag/common';
import { ApiKeyGuard, canAccess, CurrentPrincipal, RequireScopes, writeTenant } from '../auth/api-key.guard';
import type { z, ZodTypeAny } from 'zod';
import type { GatewayConfig } from '../gateway.config';
import { ApiErrors } from '../openapi/api-errors.decorator';
import { ACCEPTED, DOCUMENT_LIST, DOCUMENT_STATUS, fromZod } from '../openapi/schemas';
import { DOCUMENT_REGISTRY } from '../status/registry.provider';
import { SearchService } from '../search/search.service';
import { StatusWatcher } from '../status/status-watcher';
import { DocumentSubmitter } from './document-submitter';
import { listQuerySchema, statusQuerySchema, submitSchemas, type SubmitSchemas } from './submit-document.dto';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface AcceptedResponse {
  documentId: string;
  version: number;
  status: 'accepted' | 'deleting';
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

/** The documented request bodies (metadata bounds as configured by default). */
const DOCUMENTED = submitSchemas({ maxEntries: 64, maxKeyBytes: 256, maxValueBytes: 2048 });
const documentId = ApiParam({ name: 'id', description: 'the documentId' });

@ApiTags('documents')
@ApiBearerAuth()
@ApiErrors(401, 403, 429)
@Controller('v1/documents')
@UseGuards(ApiKeyGuard)
@RequireScopes('ingest', 'search', 'admin')
export class DocumentsController {
  private readonly schemas: SubmitSchemas;
  /** Open status streams per API key (SSE_MAX_STREAMS_PER_KEY). */
  private readonly openStreams = new Map<string, number>();

  constructor(
    private readonly submitter: DocumentSubmitter,
    private readonly watcher: StatusWatcher,
    private readonly search: SearchService,
    @Inject(DOCUMENT_REGISTRY) private readonly registry: DocumentRegistry,
    @Inject(SERVICE_CONFIG) private readonly config: GatewayConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {
    this.schemas = submitSchemas({
      maxEntries: config.MAX_METADATA_ENTRIES,
      maxKeyBytes: config.MAX_METADATA_KEY_BYTES,
      maxValueBytes: config.MAX_METADATA_VALUE_BYTES,
    });
  }

  /**
   * Multipart upload (field `file`: text, Markdown, HTML, JSON, CSV, PDF, DOCX, PPTX, XLSX) or JSON
   * `{text, title?, metadata?, documentId?, chunkSize?, chunkOverlap?}`; 202 once Kafka has it.
   */
  @Post()
  @HttpCode(202)
  @UseInterceptors(FileInterceptor('file'))
  @ApiOperation({ summary: 'Submit a document (202 once Kafka has it)' })
  @ApiConsumes('multipart/form-data', 'application/json')
  @ApiBody({
    schema: {
      oneOf: [
        fromZod(DOCUMENTED.json),
        {
          type: 'object',
          required: ['file'],
          properties: {
            file: { type: 'string', format: 'binary' },
            title: { type: 'string' },
            documentId: { type: 'string' },
            version: { type: 'integer' },
            chunkSize: { type: 'integer', minimum: 16, maximum: 8191, description: "tokens per chunk (default: the chunker's)" },
            chunkOverlap: { type: 'integer', minimum: 0, description: 'tokens shared by consecutive chunks, < chunkSize' },
            metadata: { type: 'string', description: 'a JSON object of strings' },
          },
        },
      ],
    },
  })
  @ApiAcceptedResponse({ description: 'accepted: Kafka acknowledged the document', schema: ACCEPTED })
  @ApiErrors(400, 409, 413, 415, 503)
  @RequireScopes('ingest')
  async submit(
    @Req() req: Request,
    @CurrentPrincipal() principal: Principal,
    @Body() body: unknown,
    @UploadedFile() file?: Express.Multer.File,
  ): Promise<AcceptedResponse> {
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
    doc.tenant = writeTenant(principal);
    await this.rejectStaleVersion(doc);
    const accepted = await this.submitter.submit(doc);
    try {
      // So that a status read right after 202 knows this version (the projector folds the same event later).
      await this.registry.recordAcceptance(accepted);
    } catch (err) {
      this.logger.warn({ err, documentId: doc.documentId }, 'acceptance not yet in the registry; the projector will add it');
    }
    return { documentId: doc.documentId, version: doc.version, status: 'accepted', statusUrl: this.statusUrl(req, doc.documentId) };
  }

  /** Newest first, filtered by status and source, `cursor` from the previous page's `nextCursor`. */
  @Get()
  @ApiOperation({ summary: 'List documents, newest first, with a stable cursor' })
  @ApiQuery({ name: 'status', required: false, enum: ['accepted', 'chunked', 'indexing', 'indexed', 'failed', 'deleted'] })
  @ApiQuery({ name: 'source', required: false, type: String })
  @ApiQuery({ name: 'limit', required: false, type: Number, description: '1..1000, default 100' })
  @ApiQuery({ name: 'cursor', required: false, type: String, description: 'nextCursor of the previous page' })
  @ApiOkResponse({ schema: DOCUMENT_LIST })
  @ApiErrors(400)
  async list(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
    const { status, source, limit, cursor } = parse(listQuerySchema, query);
    const tenant = principal.tenant === ALL_TENANTS ? undefined : principal.tenant;
    try {
      const page = await this.registry.list({ status, source, limit, cursor, tenant });
      return { documents: page.documents.map(toDocumentStatus), nextCursor: page.nextCursor };
    } catch (err) {
      if (err instanceof InvalidCursorError) throw new BadRequestException({ error: 'invalid_cursor', message: err.message });
      throw err;
    }
  }

  /** The current version's status, or with `?version=` what became of that version. */
  @Get(':id')
  @ApiOperation({ summary: "A document's status, or with ?version= what became of that version" })
  @documentId
  @ApiQuery({ name: 'version', required: false, type: Number })
  @ApiOkResponse({ schema: DOCUMENT_STATUS })
  @ApiErrors(400, 404)
  async status(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Query() query: unknown) {
    const { version } = parse(statusQuerySchema, query);
    const stored = await this.visible(principal, id);
    const answer = stored && (version === undefined ? toDocumentStatus(stored.record) : versionStatus(stored.record, version));
    if (!answer) {
      const what = version === undefined ? `document ${id}` : `version ${version} of document ${id}`;
      throw new NotFoundException({ error: 'not_found', message: `no ${what} is known` });
    }
    return answer;
  }

  /** The chunks of the searchable version, in order (up to 1,000). */
  @Get(':id/chunks')
  @ApiOperation({ summary: "The chunks of a document's searchable version, in order" })
  @documentId
  @ApiOkResponse({
    schema: { type: 'object', properties: { version: { type: 'integer' }, chunks: { type: 'array', items: { type: 'object' } } } },
  })
  @ApiErrors(404)
  async chunks(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    const stored = await this.visible(principal, id);
    const version = stored?.record.searchableVersion;
    if (version === null || version === undefined)
      throw new NotFoundException({ error: 'not_found', message: `document ${id} has no searchable version` });
    return { version, chunks: await this.search.chunksOf(id, version) };
  }

  /** Deletes every version: a tombstone through the pipeline; the status becomes `deleted` once no chunk is searchable. */
  @Delete(':id')
  @HttpCode(202)
  @ApiOperation({ summary: 'Delete every version (status becomes deleted once no chunk is searchable)' })
  @documentId
  @ApiAcceptedResponse({ description: 'the delete is on its way through the pipeline', schema: ACCEPTED })
  @ApiErrors(404, 503)
  @RequireScopes('admin')
  async delete(@Req() req: Request, @CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<AcceptedResponse> {
    const stored = await this.visible(principal, id);
    if (!stored) throw new NotFoundException({ error: 'not_found', message: `no document ${id} is known` });
    await this.submitter.delete(id, stored.record.version);
    return { documentId: id, version: stored.record.version, status: 'deleting', statusUrl: this.statusUrl(req, id) };
  }

  /** Server-Sent Events: the status now, then on every change, until indexed, failed or deleted. */
  @Sse(':id/events')
  @ApiOperation({ summary: 'Server-Sent Events: the status now and on every change, until indexed, failed or deleted' })
  @documentId
  @ApiOkResponse({
    description: '`event: status` messages whose data is the document status (JSON)',
    content: { 'text/event-stream': { schema: { type: 'string' } } },
  })
  @ApiErrors(404)
  async events(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<Observable<MessageEvent>> {
    if (!(await this.visible(principal, id))) throw new NotFoundException({ error: 'not_found', message: `no document ${id} is known` });
    const open = this.openStreams.get(principal.keyId) ?? 0;
    if (open >= this.config.SSE_MAX_STREAMS_PER_KEY) {
      throw new HttpException(
        { error: 'too_many_streams', message: `key ${principal.keyId} has ${open} open status streams (SSE_MAX_STREAMS_PER_KEY)` },
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
    this.openStreams.set(principal.keyId, open + 1);
    // Heartbeats keep idle streams open through proxies and stop with the status stream; no
    // stream outlives SSE_MAX_DURATION_MS (EventSource clients reconnect).
    const statusDone = new Subject<void>();
    const heartbeats = interval(this.config.SSE_HEARTBEAT_MS).pipe(
      map((): MessageEvent => ({ type: 'heartbeat', data: '' })),
      takeUntil(statusDone),
    );
    const status = this.watcher.watch(id).pipe(
      map((value): MessageEvent => ({ type: 'status', data: value })),
      finalize(() => statusDone.next()),
    );
    return merge(heartbeats, status).pipe(
      takeUntil(timer(this.config.SSE_MAX_DURATION_MS)),
      finalize(() => {
        const left = (this.openStreams.get(principal.keyId) ?? 1) - 1;
        if (left > 0) this.openStreams.set(principal.keyId, left);
        else this.openStreams.delete(principal.keyId);
      }),
    );
  }

  /** The registry record if the caller's tenant may see it; another tenant's document is "not found". */
  private async visible(principal: Principal, id: string) {
    const stored = await this.registry.get(id);
    return stored && canAccess(principal, stored.record.tenant) ? stored : undefined;
  }

  /** A caller-chosen version must be newer than what the registry holds (or the same, to re-send it). */
  private async rejectStaleVersion(doc: DocumentSubmitted): Promise<void> {
    const current = (await this.registry.get(doc.documentId))?.record;
    if (!current) return;
    if ((current.tenant ?? DEFAULT_TENANT) !== tenantOf(doc)) {
      throw new ConflictException({
        error: 'document_id_taken',
        message: `documentId ${doc.documentId} is used by another tenant; choose another`,
      });
    }
    const deleted = current.deletedVersion !== null && doc.version <= current.deletedVersion;
    if (doc.version < current.version || deleted) {
      throw new ConflictException({
        error: 'version_conflict',
        message: deleted
          ? `version ${doc.version} of ${doc.documentId} was deleted; submit a version above ${current.deletedVersion}`
          : `version ${doc.version} of ${doc.documentId} is older than the current version ${current.version}`,
      });
    }
  }

  private statusUrl(req: Request, documentId: string): string {
    const base = this.config.PUBLIC_BASE_URL ?? `${req.protocol}://${req.get('host')}`;
    return `${base}/v1/documents/${encodeURIComponent(documentId)}`;
  }

  private fromJson(body: unknown): DocumentSubmitted {
    const input = parse(this.schemas.json, body);
    const bytes = Buffer.from(input.text, 'utf8');
    this.checkText(bytes);
    return this.document({ ...input, bytes, source: 'http-json' });
  }

  private fromUpload(body: unknown, file?: Express.Multer.File): DocumentSubmitted {
    if (!file) throw new BadRequestException({ error: 'invalid_request', message: 'multipart upload needs a "file" field' });
    const fields = parse(this.schemas.form, body ?? {});
    const contentType = this.uploadContentType(file);
    if (isBinaryContentType(contentType)) this.checkBinary(contentType, file.buffer);
    else this.checkText(file.buffer, contentType);
    return this.document({ ...fields, contentType, bytes: file.buffer, title: fields.title ?? file.originalname, source: 'http-upload' });
  }

  /** The declared (or extension's) type; a generic type with an unknown extension is taken from the bytes. */
  private uploadContentType(file: Express.Multer.File): ContentType {
    const contentType = resolveUploadContentType(file.mimetype, file.originalname);
    if (contentType) return contentType;
    const sniffed = sniffContent(file.buffer);
    const generic = ['', 'application/octet-stream'].includes(baseContentType(file.mimetype ?? ''));
    if (generic && isBinaryContentType(sniffed)) return sniffed;
    throw new UnsupportedMediaTypeException({
      error: 'unsupported_media_type',
      message: `file type "${file.mimetype}" (${file.originalname}) is not supported; send one of ${CONTENT_TYPES.map((t) => FORMAT_NAMES[t]).join(', ')}`,
    });
  }

  /** PDF and Office files: within their size limit and really what they claim to be. */
  private checkBinary(contentType: BinaryContentType, bytes: Buffer): void {
    if (bytes.length > this.config.MAX_BINARY_DOCUMENT_BYTES) {
      throw new PayloadTooLargeException({
        error: 'too_large',
        message: `${FORMAT_NAMES[contentType]} file is ${bytes.length} bytes, the limit is ${this.config.MAX_BINARY_DOCUMENT_BYTES} (MAX_BINARY_DOCUMENT_BYTES)`,
      });
    }
    this.checkSignature(contentType, bytes);
  }

  /** Text: within its size limit, not a binary file in disguise, UTF-8, not blank, and JSON that parses. */
  private checkText(bytes: Buffer, contentType?: ContentType): void {
    if (bytes.length > this.config.MAX_DOCUMENT_BYTES) {
      throw new PayloadTooLargeException({
        error: 'too_large',
        message: `document is ${bytes.length} bytes, the limit is ${this.config.MAX_DOCUMENT_BYTES}`,
      });
    }
    if (contentType) this.checkSignature(contentType, bytes);
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      throw new BadRequestException({ error: 'invalid_encoding', message: 'file is not valid UTF-8 text' });
    }
    if (text.trim().length === 0) {
      throw new BadRequestException({ error: 'empty_document', message: 'document has no text' });
    }
    if (contentType === 'application/json') {
      try {
        JSON.parse(text);
      } catch (err) {
        throw new BadRequestException({ error: 'invalid_json', message: `file is not valid JSON: ${(err as Error).message}` });
      }
    }
  }

  private checkSignature(contentType: ContentType, bytes: Buffer): void {
    const mismatch = contentMismatch(contentType, bytes);
    if (mismatch) throw new UnsupportedMediaTypeException({ error: 'content_type_mismatch', message: mismatch });
  }

  private document(input: {
    bytes: Buffer;
    contentType: string;
    title?: string;
    documentId?: string;
    version?: number;
    chunkSize?: number;
    chunkOverlap?: number;
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
      chunkSize: input.chunkSize ?? null,
      chunkOverlap: input.chunkOverlap ?? null,
      submittedAt: now,
    };
  }
}
