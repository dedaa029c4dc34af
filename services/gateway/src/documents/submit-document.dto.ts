import { MAX_CHUNK_SIZE, MIN_CHUNK_SIZE, TEXT_CONTENT_TYPES } from '@rag/contracts';
import { z } from 'zod';

/**
 * Bounds of a document's metadata (MAX_METADATA_ENTRIES, MAX_METADATA_KEY_BYTES,
 * MAX_METADATA_VALUE_BYTES). Metadata is copied into every chunk, so these bound what it adds to
 * each chunk record: far below the chunk topic's max.message.bytes with the defaults.
 */
export interface MetadataLimits {
  maxEntries: number;
  maxKeyBytes: number;
  maxValueBytes: number;
}

const utf8Bytes = (s: string) => Buffer.byteLength(s, 'utf8');

function metadataSchema(limits: MetadataLimits) {
  return z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).superRefine((m, ctx) => {
    const keys = Object.keys(m);
    if (keys.length > limits.maxEntries) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `${keys.length} entries, the limit is ${limits.maxEntries} (MAX_METADATA_ENTRIES)`,
      });
    }
    for (const key of keys) {
      if (utf8Bytes(key) > limits.maxKeyBytes) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: [key.slice(0, 64)],
          message: `key is ${utf8Bytes(key)} bytes, the limit is ${limits.maxKeyBytes} (MAX_METADATA_KEY_BYTES)`,
        });
      }
      if (utf8Bytes(m[key]) > limits.maxValueBytes) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: [key.slice(0, 64)],
          message: `value is ${utf8Bytes(m[key])} bytes, the limit is ${limits.maxValueBytes} (MAX_METADATA_VALUE_BYTES)`,
        });
      }
    }
  });
}

export const documentIdSchema = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Za-z0-9._:\-/]+$/, 'documentId may contain letters, digits and . _ : - / only');

/** Per-document chunking (both optional; the chunker's defaults apply). */
function withChunking<T extends z.ZodRawShape>(shape: z.ZodObject<T>, coerce: boolean) {
  const int = coerce ? z.coerce.number().int() : z.number().int();
  return shape
    .extend({
      chunkSize: int.min(MIN_CHUNK_SIZE).max(MAX_CHUNK_SIZE).optional(),
      chunkOverlap: int.min(0).optional(),
    })
    .refine((v) => v.chunkOverlap === undefined || v.chunkOverlap < (v.chunkSize ?? Number.POSITIVE_INFINITY), {
      message: 'chunkOverlap must be smaller than chunkSize',
      path: ['chunkOverlap'],
    });
}

/** The request schemas of POST /v1/documents, with the configured metadata bounds. */
export function submitSchemas(limits: MetadataLimits) {
  const metadata = metadataSchema(limits);

  /** JSON body. */
  const json = withChunking(
    z
      .object({
        text: z.string({ required_error: 'text is required' }),
        title: z.string().max(1024).optional(),
        documentId: documentIdSchema.optional(),
        version: z.number().int().positive().optional(),
        contentType: z.enum(TEXT_CONTENT_TYPES).default('text/plain'),
        metadata: metadata.default({}),
      })
      .strict(),
    false,
  );

  /** Form fields that may accompany a multipart upload. */
  const form = withChunking(
    z.object({
      title: z.string().max(1024).optional(),
      documentId: documentIdSchema.optional(),
      version: z.coerce.number().int().positive().optional(),
      metadata: z
        .string()
        .optional()
        .transform((s, ctx) => {
          if (!s) return {};
          let parsed: unknown;
          try {
            parsed = JSON.parse(s);
          } catch {
            ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'metadata must be a JSON object of strings' });
            return z.NEVER;
          }
          const result = metadata.safeParse(parsed);
          if (!result.success) {
            for (const issue of result.error.issues) ctx.addIssue({ ...issue, path: issue.path } as z.IssueData);
            return z.NEVER;
          }
          return result.data;
        }),
    }),
    true,
  );

  return { json, form };
}

export type SubmitSchemas = ReturnType<typeof submitSchemas>;
export type SubmitJson = z.infer<SubmitSchemas['json']>;

/** Query of GET /v1/documents. */
export const listQuerySchema = z
  .object({
    status: z.enum(['accepted', 'chunked', 'indexing', 'indexed', 'failed', 'deleted']).optional(),
    source: z.string().max(256).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    cursor: z.string().max(2048).optional(),
  })
  .strict();

/** Query of GET /v1/documents/:id. */
export const statusQuerySchema = z.object({ version: z.coerce.number().int().nonnegative().optional() }).strict();
