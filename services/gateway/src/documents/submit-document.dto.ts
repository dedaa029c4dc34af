import { z } from 'zod';

export const TEXT_CONTENT_TYPES = ['text/plain', 'text/markdown', 'text/html', 'application/json'] as const;

const metadata = z
  .record(z.string().max(256), z.union([z.string(), z.number(), z.boolean()]).transform(String))
  .refine((m) => Object.keys(m).length <= 64, 'at most 64 metadata keys');

export const documentIdSchema = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Za-z0-9._:\-/]+$/, 'documentId may contain letters, digits and . _ : - / only');

/** JSON body of POST /v1/documents. */
export const submitJsonSchema = z
  .object({
    text: z.string({ required_error: 'text is required' }),
    title: z.string().max(1024).optional(),
    documentId: documentIdSchema.optional(),
    version: z.number().int().positive().optional(),
    contentType: z.enum(TEXT_CONTENT_TYPES).default('text/plain'),
    metadata: metadata.default({}),
  })
  .strict();

/** Form fields that may accompany a multipart upload. */
export const submitFormSchema = z.object({
  title: z.string().max(1024).optional(),
  documentId: documentIdSchema.optional(),
  version: z.coerce.number().int().positive().optional(),
  metadata: z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (!s) return {};
      try {
        return metadata.parse(JSON.parse(s));
      } catch {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'metadata must be a JSON object of strings' });
        return z.NEVER;
      }
    }),
});

export type SubmitJson = z.infer<typeof submitJsonSchema>;

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
