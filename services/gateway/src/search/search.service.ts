import type { Client } from '@elastic/elasticsearch';
import type { QueryDslQueryContainer } from '@elastic/elasticsearch/lib/api/types';
import { BadGatewayException, Inject, Injectable } from '@nestjs/common';
import { ELASTICSEARCH, SERVICE_CONFIG } from '@rag/common';
import { EMBEDDING_PROVIDER, type EmbeddingProvider } from '@rag/embedding';
import { tenantFilter } from '@rag/document-registry';
import type { ChunkDocument } from '@rag/search-index';
import type { GatewayConfig } from '../gateway.config';
import type { SearchHit, SearchRequest } from './search.dto';

/** Query → vector with the pipeline's own provider → approximate kNN (optionally + BM25). */
@Injectable()
export class SearchService {
  constructor(
    @Inject(ELASTICSEARCH) private readonly es: Client,
    @Inject(EMBEDDING_PROVIDER) private readonly provider: EmbeddingProvider,
    @Inject(SERVICE_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /** `tenant`: only that tenant's chunks (undefined: every tenant's, for operator keys). */
  async search(request: SearchRequest, tenant?: string): Promise<{ hits: SearchHit[]; took: number; model: string }> {
    const k = request.k ?? this.config.SEARCH_DEFAULT_K;
    const [vector] = await this.provider.embed([request.query]);
    if (vector instanceof Error) throw new BadGatewayException({ error: 'embedding_failed', message: vector.message });
    const filter = [...this.filters(request), ...(tenant === undefined ? [] : [tenantFilter(tenant)])];
    const response = await this.es.search<ChunkDocument>({
      index: this.config.ES_INDEX_ALIAS,
      size: k,
      knn: {
        field: 'embedding',
        query_vector: vector,
        k,
        num_candidates: Math.min(10_000, Math.max(100, k * 10)),
        filter,
        boost: request.hybrid ? 0.7 : 1,
      },
      ...(request.hybrid ? { query: { bool: { must: [{ match: { text: { query: request.query, boost: 0.3 } } }], filter } } } : {}),
      _source: { excludes: ['embedding'] },
    });
    const hits = response.hits.hits.map((hit) => {
      const src = hit._source as ChunkDocument;
      return {
        chunkId: src.chunkId,
        documentId: src.documentId,
        version: src.version,
        chunkIndex: src.chunkIndex,
        title: src.title,
        heading: src.heading,
        headings: src.headings ?? [],
        pageStart: src.pageStart ?? null,
        pageEnd: src.pageEnd ?? null,
        slideStart: src.slideStart ?? null,
        slideEnd: src.slideEnd ?? null,
        sheet: src.sheet ?? null,
        text: src.text,
        score: hit._score ?? 0,
        metadata: src.metadata ?? {},
      };
    });
    return { hits, took: response.took, model: this.provider.model };
  }

  /** The chunks of a document's searchable version, in order (what the console's detail view shows). */
  async chunksOf(documentId: string, version: number): Promise<{ chunkIndex: number; heading: string | null; text: string }[]> {
    const response = await this.es.search<ChunkDocument>({
      index: this.config.ES_INDEX_ALIAS,
      size: 1_000,
      query: { bool: { filter: [{ term: { documentId } }, { term: { version } }] } },
      sort: [{ chunkIndex: 'asc' }],
      _source: ['chunkIndex', 'heading', 'text'],
    });
    return response.hits.hits.map((hit) => {
      const src = hit._source as ChunkDocument;
      return { chunkIndex: src.chunkIndex, heading: src.heading, text: src.text };
    });
  }

  private filters(request: SearchRequest): QueryDslQueryContainer[] {
    const filters: QueryDslQueryContainer[] = [];
    const documentId = request.filter?.documentId;
    if (documentId !== undefined) filters.push({ terms: { documentId: Array.isArray(documentId) ? documentId : [documentId] } });
    for (const [key, value] of Object.entries(request.filter?.metadata ?? {})) filters.push({ term: { [`metadata.${key}`]: value } });
    const { page, slide, sheet } = request.filter ?? {};
    if (page !== undefined) filters.push({ range: { pageStart: { lte: page } } }, { range: { pageEnd: { gte: page } } });
    if (slide !== undefined) filters.push({ range: { slideStart: { lte: slide } } }, { range: { slideEnd: { gte: slide } } });
    if (sheet !== undefined) filters.push({ term: { sheet } });
    return filters;
  }
}
