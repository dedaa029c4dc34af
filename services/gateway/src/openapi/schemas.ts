import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import * as zodToJson from 'zod-to-json-schema';
import type { ZodTypeAny } from 'zod';

/** A request schema for the OpenAPI document, derived from the zod schema that validates it. */
export function fromZod(schema: ZodTypeAny): SchemaObject {
  // zodToJsonSchema's generic signature is too deep for tsc on these schemas; its value is plain JSON.
  const convert = (zodToJson as Record<string, unknown>).zodToJsonSchema as (
    s: ZodTypeAny,
    o: { target: 'openApi3'; $refStrategy: 'none' },
  ) => Record<string, unknown>;
  const { $schema: _ignored, ...json } = convert(schema, { target: 'openApi3', $refStrategy: 'none' });
  return json as SchemaObject;
}

const nullable = (type: 'string' | 'integer' | 'number'): SchemaObject => ({ type, nullable: true });
const stringMap: SchemaObject = { type: 'object', additionalProperties: { type: 'string' } };

export const ERROR_BODY: SchemaObject = {
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string', description: 'stable code, e.g. invalid_request, not_found, too_large, version_conflict' },
    message: { type: 'string', description: 'what went wrong, for people' },
  },
};

export const ACCEPTED: SchemaObject = {
  type: 'object',
  required: ['documentId', 'version', 'status', 'statusUrl'],
  properties: {
    documentId: { type: 'string' },
    version: { type: 'integer' },
    status: { type: 'string', enum: ['accepted', 'deleting'] },
    statusUrl: { type: 'string', format: 'uri' },
  },
};

export const DOCUMENT_STATUS: SchemaObject = {
  type: 'object',
  required: ['documentId', 'version', 'status'],
  properties: {
    documentId: { type: 'string' },
    version: { type: 'integer' },
    status: { type: 'string', enum: ['accepted', 'chunked', 'indexing', 'indexed', 'failed', 'superseded', 'deleting', 'deleted'] },
    title: nullable('string'),
    source: nullable('string'),
    contentType: nullable('string'),
    contentHash: nullable('string'),
    metadata: stringMap,
    chunkCount: nullable('integer'),
    indexedChunks: { type: 'integer' },
    failures: {
      type: 'array',
      items: {
        type: 'object',
        properties: { stage: { type: 'string' }, reason: { type: 'string' }, at: { type: 'string', format: 'date-time' } },
      },
    },
    searchableVersion: nullable('integer'),
    submittedAt: { type: 'string', format: 'date-time', nullable: true },
    acceptedAt: { type: 'string', format: 'date-time', nullable: true },
    chunkedAt: { type: 'string', format: 'date-time', nullable: true },
    indexedAt: { type: 'string', format: 'date-time', nullable: true },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    deletedAt: { type: 'string', format: 'date-time', nullable: true },
    timings: {
      type: 'object',
      properties: { chunkingMs: nullable('integer'), indexingMs: nullable('integer'), totalMs: nullable('integer') },
    },
    history: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          version: { type: 'integer' },
          status: { type: 'string', enum: ['superseded', 'deleted'] },
          at: { type: 'string', format: 'date-time' },
        },
      },
    },
  },
};

export const DOCUMENT_LIST: SchemaObject = {
  type: 'object',
  required: ['documents', 'nextCursor'],
  properties: {
    documents: { type: 'array', items: DOCUMENT_STATUS },
    nextCursor: { type: 'string', nullable: true, description: 'pass as `cursor` for the next page; null on the last page' },
  },
};

export const SEARCH_RESPONSE: SchemaObject = {
  type: 'object',
  properties: {
    hits: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          chunkId: { type: 'string' },
          documentId: { type: 'string' },
          version: { type: 'integer' },
          chunkIndex: { type: 'integer' },
          title: nullable('string'),
          heading: nullable('string'),
          headings: { type: 'array', items: { type: 'string' }, description: 'headings of further sections merged into the chunk' },
          pageStart: { ...nullable('integer'), description: 'PDF: first page of the chunk' },
          pageEnd: { ...nullable('integer'), description: 'PDF: last page of the chunk' },
          slideStart: { ...nullable('integer'), description: 'PPTX: first slide of the chunk' },
          slideEnd: { ...nullable('integer'), description: 'PPTX: last slide of the chunk' },
          sheet: { ...nullable('string'), description: 'XLSX: worksheet of the chunk' },
          text: { type: 'string' },
          score: { type: 'number' },
          metadata: stringMap,
        },
      },
    },
    took: { type: 'integer', description: 'Elasticsearch time, ms' },
    model: { type: 'string', description: 'the embedding model of the query vector' },
  },
};
