import { performance } from 'node:perf_hooks';
import { DOCX, PDF, PPTX, XLSX } from '@rag/contracts';
import { docxFile, paragraph, pdfFile, pptxFile, seededRandom, sentence, xlsxFile } from '@rag/testkit';
import { splitDocument } from '../services/chunker/src/chunk-document';
import { chunkerConfigSchema, splitLimits } from '../services/chunker/src/chunker.config';
import { RecursiveTokenSplitter } from '../services/chunker/src/text-splitter';

/**
 * Parse throughput of the chunker per format (extract + split, in this thread, as one parse
 * worker runs it), on files written by other tools. MB/s is of the file's bytes; chunks/s and
 * pages/s show the work behind them (a PDF's bytes are mostly fonts and layout).
 */
export interface FormatThroughput {
  format: string;
  files: number;
  megabytes: number;
  units: string;
  unitsPerFile: number;
  seconds: number;
  megabytesPerSecond: number;
  chunksPerSecond: number;
}

export async function measureParseThroughput(filesPerFormat: number): Promise<FormatThroughput[]> {
  const random = seededRandom(77);
  const config = chunkerConfigSchema.parse({});
  const splitter = new RecursiveTokenSplitter({ chunkSize: config.CHUNK_SIZE_TOKENS, chunkOverlap: config.CHUNK_OVERLAP_TOKENS });
  const limits = splitLimits(config);
  const markdown = () =>
    Array.from({ length: 12 }, (_, i) => `## Section ${i}\n\n${Array.from({ length: 3 }, () => paragraph(random)).join('\n\n')}`).join(
      '\n\n',
    );
  const makers: { format: string; type: string; units: string; perFile: number; make: () => Promise<Buffer> }[] = [
    { format: 'markdown', type: 'text/markdown', units: 'sections', perFile: 12, make: async () => Buffer.from(markdown()) },
    {
      format: 'pdf',
      type: PDF,
      units: 'pages',
      perFile: 20,
      make: () => pdfFile(Array.from({ length: 20 }, (_, i) => ({ heading: `Page ${i + 1}`, text: paragraph(random, 14) }))),
    },
    {
      format: 'docx',
      type: DOCX,
      units: 'sections',
      perFile: 12,
      make: () =>
        docxFile(
          Array.from({ length: 12 }, (_, i) => ({
            heading: `Section ${i}`,
            paragraphs: [paragraph(random), paragraph(random)],
            table:
              i % 3 === 0 ? [['Part', 'Value'], ...Array.from({ length: 6 }, () => [sentence(random, 2), sentence(random, 3)])] : undefined,
          })),
        ),
    },
    {
      format: 'pptx',
      type: PPTX,
      units: 'slides',
      perFile: 15,
      make: () => pptxFile(Array.from({ length: 15 }, (_, i) => ({ title: `Slide ${i + 1}`, body: paragraph(random, 3) }))),
    },
    {
      format: 'xlsx',
      type: XLSX,
      units: 'rows',
      perFile: 3 * 200,
      make: () =>
        xlsxFile(
          ['North', 'South', 'West'].map((name) => ({
            name,
            rows: [['Item', 'Description', 'Count'], ...Array.from({ length: 200 }, (_, i) => [`item ${i}`, sentence(random, 6), i])],
          })),
        ),
    },
  ];
  const results: FormatThroughput[] = [];
  for (const maker of makers) {
    const files = await Promise.all(Array.from({ length: filesPerFormat }, () => maker.make()));
    await splitDocument(maker.type, files[0], splitter, limits); // warm-up: module loading is not parsing
    let chunks = 0;
    const started = performance.now();
    for (const file of files) chunks += (await splitDocument(maker.type, file, splitter, limits)).length;
    const seconds = (performance.now() - started) / 1000;
    const megabytes = files.reduce((n, f) => n + f.length, 0) / 1e6;
    results.push({
      format: maker.format,
      files: files.length,
      megabytes: Math.round(megabytes * 100) / 100,
      units: maker.units,
      unitsPerFile: maker.perFile,
      seconds: Math.round(seconds * 100) / 100,
      megabytesPerSecond: Math.round((megabytes / seconds) * 100) / 100,
      chunksPerSecond: Math.round(chunks / seconds),
    });
  }
  return results;
}

export function parseThroughputMarkdown(rows: FormatThroughput[]): string[] {
  return [
    '| format | files | MB | per file | MB/s | files/s | chunks/s |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.format} | ${r.files} | ${r.megabytes} | ${r.unitsPerFile} ${r.units} | ${r.megabytesPerSecond} | ${Math.round(r.files / r.seconds)} | ${r.chunksPerSecond} |`,
    ),
  ];
}
