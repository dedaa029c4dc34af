import { deflateSync } from 'node:zlib';
import { Document, HeadingLevel, Packer, Paragraph, Table, TableCell, TableRow } from 'docx';
import ExcelJS from 'exceljs';
import { zipSync, strToU8 } from 'fflate';
import PDFDocument from 'pdfkit';
import PptxGenJS from 'pptxgenjs';

/*
 * Real files made by well-known writers at test time (pdfkit, docx, pptxgenjs, exceljs), so the
 * readers are tested against what other tools produce, not against their own output.
 */

async function pdfkitToBuffer(build: (doc: PDFKit.PDFDocument) => void, options: PDFKit.PDFDocumentOptions = {}): Promise<Buffer> {
  const doc = new PDFDocument({ ...options, autoFirstPage: false, compress: true });
  const parts: Buffer[] = [];
  doc.on('data', (part: Buffer) => parts.push(part));
  const done = new Promise<void>((resolve, reject) => {
    doc.on('end', () => resolve());
    doc.on('error', reject);
  });
  build(doc);
  doc.end();
  await done;
  return Buffer.concat(parts);
}

/** A PDF with one page per entry, each page a heading line and a paragraph. */
export function pdfFile(pages: { heading?: string; text: string }[], options: { userPassword?: string } = {}): Promise<Buffer> {
  return pdfkitToBuffer(
    (doc) => {
      for (const page of pages) {
        doc.addPage();
        if (page.heading) doc.fontSize(18).text(page.heading).moveDown();
        doc.fontSize(11).text(page.text);
      }
    },
    options.userPassword ? { userPassword: options.userPassword, ownerPassword: `${options.userPassword}-owner` } : {},
  );
}

/** `pages` pages holding one word each: the pathological long PDF. */
export function manyPagePdf(pages: number, word = 'lorem'): Promise<Buffer> {
  return pdfkitToBuffer((doc) => {
    for (let i = 0; i < pages; i++)
      doc
        .addPage({ size: [200, 100], margin: 10 })
        .fontSize(10)
        .text(word);
  });
}

/** Pages that are only a raster image and no text: what a scanner without OCR produces. */
export function imageOnlyPdf(pages = 2): Promise<Buffer> {
  const image = grayPng(64, 64);
  return pdfkitToBuffer((doc) => {
    for (let i = 0; i < pages; i++) doc.addPage().image(image, 50, 50, { width: 400 });
  });
}

export interface DocxSection {
  heading: string;
  level?: 1 | 2 | 3;
  paragraphs: string[];
  table?: string[][];
}

const HEADING_LEVELS = { 1: HeadingLevel.HEADING_1, 2: HeadingLevel.HEADING_2, 3: HeadingLevel.HEADING_3 } as const;

/** A DOCX with Word heading styles, paragraphs and tables. */
export function docxFile(sections: DocxSection[]): Promise<Buffer> {
  const children = sections.flatMap((section) => [
    new Paragraph({ text: section.heading, heading: HEADING_LEVELS[section.level ?? 1] }),
    ...section.paragraphs.map((p) => new Paragraph(p)),
    ...(section.table
      ? [
          new Table({
            rows: section.table.map((row) => new TableRow({ children: row.map((c) => new TableCell({ children: [new Paragraph(c)] })) })),
          }),
        ]
      : []),
  ]);
  return Packer.toBuffer(new Document({ sections: [{ children }] }));
}

/** A PPTX with one slide per entry (a title box and a body box). */
export async function pptxFile(slides: { title: string; body: string }[]): Promise<Buffer> {
  const pptx = new PptxGenJS();
  for (const slide of slides) {
    const s = pptx.addSlide();
    s.addText(slide.title, { x: 0.5, y: 0.3, w: 9, h: 1, fontSize: 28 });
    s.addText(slide.body, { x: 0.5, y: 1.6, w: 9, h: 3, fontSize: 16 });
  }
  return Buffer.from((await pptx.write({ outputType: 'nodebuffer' })) as Buffer);
}

/** An XLSX with the given worksheets (first row = header). */
export async function xlsxFile(sheets: { name: string; rows: (string | number)[][] }[]): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  for (const sheet of sheets) workbook.addWorksheet(sheet.name).addRows(sheet.rows);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

/**
 * A DOCX-shaped zip bomb: a tiny package whose document part inflates to `megabytes` MiB of
 * whitespace (each MiB deflates to ~1 KiB).
 */
export function zipBombDocx(megabytes: number): Buffer {
  const filler = new Uint8Array(megabytes * 1024 * 1024).fill(0x20);
  return Buffer.from(
    zipSync({
      '[Content_Types].xml': strToU8('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'),
      'word/document.xml': [filler, { level: 9 }],
    }),
  );
}

/** An 8-bit grayscale PNG with a diagonal gradient (node's zlib; no image library needed). */
function grayPng(width: number, height: number): Buffer {
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) raw[y * (width + 1) + 1 + x] = (x + y) * 2;
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 0, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function crc32(bytes: Buffer): number {
  let crc = ~0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}
