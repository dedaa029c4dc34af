import { posix } from 'node:path';
import { PermanentError } from '@rag/common/stage-errors';
import { XMLParser } from 'fast-xml-parser';
import type { Section } from './section';
import { checkZipBudget, readZipEntries } from './zip-guard';

/** fast-xml-parser's ordered output: one key (the tag) with child nodes, `#text` for text, `:@` for attributes. */
type OrderedNode = Record<string, unknown>;

const ordered = new XMLParser({ preserveOrder: true, ignoreAttributes: true, trimValues: false, processEntities: true });
const plain = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', processEntities: true });

/**
 * PPTX: one section per slide in show order (presentation.xml's slide list, not file names),
 * each paragraph a line, each table row one line of " | "-joined cells. fflate reads only the
 * parts needed, after the zip-bomb guard; fast-xml-parser parses them (no DTDs, no entities
 * beyond XML's own).
 */
export function pptxSections(content: Uint8Array, maxUnzippedBytes: number): Section[] {
  checkZipBudget(content, maxUnzippedBytes);
  const parts = readZipEntries(
    content,
    (name) => name === 'ppt/presentation.xml' || name === 'ppt/_rels/presentation.xml.rels' || /^ppt\/slides\/slide\d+\.xml$/.test(name),
  );
  const text = (name: string) => (parts[name] ? Buffer.from(parts[name]).toString('utf8') : undefined);
  const presentation = text('ppt/presentation.xml');
  const rels = text('ppt/_rels/presentation.xml.rels');
  if (!presentation || !rels) throw new PermanentError('corrupt: PPTX package has no ppt/presentation.xml');
  return slideOrder(presentation, rels).map((path, i) => ({ heading: null, slide: i + 1, text: slideText(text(path) ?? '') }));
}

/** Part names of the slides in show order. */
function slideOrder(presentationXml: string, relsXml: string): string[] {
  const relationships = asArray(plain.parse(relsXml)?.Relationships?.Relationship) as { Id: string; Target: string }[];
  const targets = new Map(relationships.map((r) => [r.Id, posix.normalize(posix.join('ppt', r.Target))]));
  const slideIds = asArray(plain.parse(presentationXml)?.['p:presentation']?.['p:sldIdLst']?.['p:sldId']) as Record<string, string>[];
  return slideIds.map((s) => targets.get(s['r:id'])).filter((t): t is string => t !== undefined);
}

/** A slide's text in document order: paragraphs are lines, table rows are " | "-joined lines. */
function slideText(xml: string): string {
  const lines: string[] = [];
  let line = '';
  const endLine = () => {
    if (line.trim()) lines.push(line.trim());
    line = '';
  };
  const walk = (nodes: OrderedNode[]): void => {
    for (const node of nodes) {
      const tag = Object.keys(node).find((k) => k !== ':@');
      if (!tag) continue;
      const children = node[tag];
      if (tag === 'a:t') line += textOf(children as OrderedNode[]);
      else if (tag === 'a:br') line += '\n';
      else if (tag === 'a:tr') {
        endLine();
        lines.push(rowText(children as OrderedNode[]));
      } else if (Array.isArray(children)) {
        walk(children as OrderedNode[]);
        if (tag === 'a:p') endLine();
      }
    }
  };
  walk(ordered.parse(xml) as OrderedNode[]);
  endLine();
  return lines.filter(Boolean).join('\n');
}

function rowText(cells: OrderedNode[]): string {
  return cells
    .filter((cell) => 'a:tc' in cell)
    .map((cell) =>
      collectText(cell['a:tc'] as OrderedNode[])
        .replace(/\s+/g, ' ')
        .trim(),
    )
    .filter(Boolean)
    .join(' | ');
}

function collectText(nodes: OrderedNode[]): string {
  let out = '';
  for (const node of nodes) {
    for (const [tag, children] of Object.entries(node)) {
      if (tag === 'a:t') out += textOf(children as OrderedNode[]);
      else if (Array.isArray(children)) out += collectText(children as OrderedNode[]) + (tag === 'a:p' ? ' ' : '');
    }
  }
  return out;
}

function textOf(nodes: OrderedNode[]): string {
  return nodes.map((n) => (typeof n['#text'] === 'string' || typeof n['#text'] === 'number' ? String(n['#text']) : '')).join('');
}

function asArray(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}
