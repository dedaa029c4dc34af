import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { embeddingInput, createEmbeddingProvider, embeddingConfigSchema, type EmbeddingProvider } from '@rag/embedding';
import { chunkDocument } from '../../services/chunker/src/chunk-document';
import { chunkerConfigSchema, splitLimits } from '../../services/chunker/src/chunker.config';
import { RecursiveTokenSplitter } from '../../services/chunker/src/text-splitter';
import type { Chunk } from '@rag/contracts';
import { generateEvalCorpus, type EvalCorpus } from './eval-corpus';
import { meanReciprocalRank, recallAt, topK, type FirstRelevantRanks } from './retrieval-metrics';

/**
 * `npm run eval`: retrieval quality of the chunker + embedder on a labelled set. Every chunking
 * variant is chunked with the chunker's own code, embedded with the pipeline's provider (as the
 * embedder would: heading + text), and searched by exact cosine over all chunks (what HNSW
 * approximates), so the numbers isolate chunking and embedding from index settings.
 */
interface Row {
  provider: string;
  chunking: string;
  chunksPerDocument: number;
  tokensPerChunk: number;
  recall1: number;
  recall5: number;
  mrr: number;
}

const RESULTS_K = 10;

async function evaluate(corpus: EvalCorpus, provider: EmbeddingProvider, chunking: { label: string; merge: boolean }): Promise<Row> {
  const config = chunkerConfigSchema.parse({});
  const splitter = new RecursiveTokenSplitter({ chunkSize: config.CHUNK_SIZE_TOKENS, chunkOverlap: config.CHUNK_OVERLAP_TOKENS });
  const limits = { ...splitLimits(config), mergeSections: chunking.merge };
  const chunks: Chunk[] = [];
  for (const doc of corpus.documents) {
    chunks.push(
      ...(await chunkDocument(
        {
          documentId: doc.documentId,
          version: 1,
          title: doc.title,
          contentType: 'text/markdown',
          content: Buffer.from(doc.markdown),
          source: 'eval',
          metadata: {},
          submittedAt: 0,
        },
        splitter,
        limits,
      )),
    );
  }
  const vectors = await embedAll(provider, chunks.map(embeddingInput));
  const queryVectors = await embedAll(
    provider,
    corpus.queries.map((q) => q.query),
  );
  const ranks: FirstRelevantRanks = corpus.queries.map((q, i) => {
    const rank = topK(queryVectors[i], vectors, RESULTS_K).findIndex(
      (c) => chunks[c].documentId === q.documentId && chunks[c].text.includes(q.answer),
    );
    return rank === -1 ? undefined : rank + 1;
  });
  return {
    provider: provider.model,
    chunking: chunking.label,
    chunksPerDocument: chunks.length / corpus.documents.length,
    tokensPerChunk: chunks.reduce((n, c) => n + c.tokenCount, 0) / chunks.length,
    recall1: recallAt(ranks, 1),
    recall5: recallAt(ranks, 5),
    mrr: meanReciprocalRank(ranks),
  };
}

async function embedAll(provider: EmbeddingProvider, texts: string[]): Promise<number[][]> {
  const out: number[][] = [];
  for (let i = 0; i < texts.length; i += 256) {
    for (const v of await provider.embed(texts.slice(i, i + 256))) {
      if (v instanceof Error) throw v;
      out.push(v);
    }
  }
  return out;
}

function table(rows: Row[]): string {
  const header = '| provider | chunking | chunks/document | tokens/chunk | recall@1 | recall@5 | MRR@10 |\n|---|---|---|---|---|---|---|';
  const lines = rows.map(
    (r) =>
      `| ${r.provider} | ${r.chunking} | ${r.chunksPerDocument.toFixed(2)} | ${r.tokensPerChunk.toFixed(0)} | ${r.recall1.toFixed(3)} | ${r.recall5.toFixed(3)} | ${r.mrr.toFixed(3)} |`,
  );
  return [header, ...lines].join('\n');
}

async function main(): Promise<void> {
  const opts = new Command('eval')
    .description('retrieval quality (recall@1/@5, MRR) of the chunker and embedder on a generated, labelled handbook set')
    .option('--documents <n>', 'handbooks to generate', (v) => Number(v), 60)
    .option('--seed <n>', 'corpus seed', (v) => Number(v), 2026)
    .option('--out <dir>', 'where to write eval-latest.md', 'bench/results')
    .parse()
    .opts<{ documents: number; seed: number; out: string }>();
  const corpus = generateEvalCorpus(opts.documents, opts.seed);
  const providers: EmbeddingProvider[] = [createEmbeddingProvider(embeddingConfigSchema.parse({ EMBEDDING_PROVIDER: 'hashing' }))];
  if (process.env.OPENAI_API_KEY)
    providers.push(createEmbeddingProvider(embeddingConfigSchema.parse({ ...process.env, EMBEDDING_PROVIDER: 'openai' })));
  else console.error('OPENAI_API_KEY is not set: the OpenAI provider is not evaluated');
  const rows: Row[] = [];
  for (const provider of providers) {
    for (const chunking of [
      { label: 'one chunk run per section (before)', merge: false },
      { label: 'small sections merged (now)', merge: true },
    ]) {
      rows.push(await evaluate(corpus, provider, chunking));
    }
  }
  const report = [
    `Retrieval quality: ${corpus.documents.length} generated handbooks, ${corpus.queries.length} labelled questions (seed ${opts.seed}),`,
    `chunk size 400 / overlap 50 tokens, exact cosine top-${RESULTS_K}. A hit is a chunk of the right document containing the answer.`,
    '',
    table(rows),
  ].join('\n');
  console.log(report);
  mkdirSync(opts.out, { recursive: true });
  writeFileSync(join(opts.out, 'eval-latest.md'), `${report}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
