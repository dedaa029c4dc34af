import { zipSync, strToU8 } from 'fflate';
import { baseContentType, contentMismatch, DOCX, PDF, PPTX, resolveUploadContentType, sniffContent, XLSX } from './content-types';

describe('resolveUploadContentType', () => {
  it.each([
    ['text/plain', 'notes.bin', 'text/plain'],
    ['text/markdown', 'README', 'text/markdown'],
    ['text/html', 'page.txt', 'text/html'],
    ['application/json', 'data', 'application/json'],
  ])('takes a supported declared type as is (%s, %s)', (mimetype, filename, expected) => {
    expect(resolveUploadContentType(mimetype, filename)).toBe(expected);
  });

  it('ignores parameters and case of the declared type', () => {
    expect(resolveUploadContentType('Text/Markdown; charset=UTF-8', 'x')).toBe('text/markdown');
    expect(resolveUploadContentType(' APPLICATION/JSON ', undefined)).toBe('application/json');
  });

  it('maps aliases', () => {
    expect(resolveUploadContentType('text/x-markdown', 'notes')).toBe('text/markdown');
    expect(resolveUploadContentType('application/xhtml+xml', 'page')).toBe('text/html');
  });

  it.each([
    ['a.txt', 'text/plain'],
    ['a.text', 'text/plain'],
    ['README.md', 'text/markdown'],
    ['guide.MARKDOWN', 'text/markdown'],
    ['index.html', 'text/html'],
    ['OLD.HTM', 'text/html'],
    ['export.v2.json', 'application/json'],
    ['dir/sub/notes.md', 'text/markdown'],
  ])('falls back to the extension of %s when the type is generic or missing', (filename, expected) => {
    expect(resolveUploadContentType('application/octet-stream', filename)).toBe(expected);
    expect(resolveUploadContentType('', filename)).toBe(expected);
    expect(resolveUploadContentType(undefined, filename)).toBe(expected);
  });

  it('is unsupported when neither the type nor the extension is one we take', () => {
    expect(resolveUploadContentType('application/octet-stream', 'scan.tiff')).toBeUndefined();
    expect(resolveUploadContentType(undefined, 'Makefile')).toBeUndefined();
    expect(resolveUploadContentType(undefined, undefined)).toBeUndefined();
    expect(resolveUploadContentType('', '.md.')).toBeUndefined();
  });

  it('does not let a supported extension override a specific unsupported declared type', () => {
    expect(resolveUploadContentType('application/zip', 'report.txt')).toBeUndefined();
    expect(resolveUploadContentType('image/png', 'image.md')).toBeUndefined();
  });

  it.each([
    ['application/octet-stream', 'scan.pdf', PDF],
    ['application/pdf', 'report.txt', PDF],
    ['', 'deck.PPTX', PPTX],
    ['application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'x', DOCX],
    [undefined, 'book.xlsx', XLSX],
    ['application/csv', 'x', 'text/csv'],
  ])('takes the binary formats and CSV (%s, %s)', (mimetype, filename, expected) => {
    expect(resolveUploadContentType(mimetype, filename)).toBe(expected);
  });
});

describe('baseContentType', () => {
  it('drops parameters and normalises case', () => {
    expect(baseContentType('Text/HTML; charset=UTF-8')).toBe('text/html');
    expect(baseContentType(' application/json ')).toBe('application/json');
  });
});

describe('sniffContent and contentMismatch', () => {
  const zip = (names: string[]) => Buffer.from(zipSync(Object.fromEntries(names.map((n) => [n, strToU8('<x/>')]))));

  it('tells the OOXML packages apart by their main part, and other zips from them', () => {
    expect(sniffContent(zip(['[Content_Types].xml', 'word/document.xml']))).toBe(DOCX);
    expect(sniffContent(zip(['[Content_Types].xml', 'ppt/presentation.xml']))).toBe(PPTX);
    expect(sniffContent(zip(['[Content_Types].xml', 'xl/workbook.xml']))).toBe(XLSX);
    expect(sniffContent(zip(['mimetype', 'OEBPS/content.opf']))).toBe('zip');
  });

  it('needs %PDF- at the start to call bytes a PDF, but accepts a declared PDF with a late header', () => {
    expect(sniffContent(Buffer.from('%PDF-1.7\n'))).toBe(PDF);
    expect(sniffContent(Buffer.from('# Notes on the %PDF- header'))).toBe('text');
    expect(contentMismatch(PDF, Buffer.from('junk\n%PDF-1.4\n'))).toBeUndefined();
  });

  it('names both the claim and what the bytes are', () => {
    expect(contentMismatch(DOCX, zip(['xl/workbook.xml']))).toBe('declared docx but the content is an XLSX file');
    expect(contentMismatch('text/plain', Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0, 0]))).toBe(
      'declared text but the content is binary data of an unsupported format',
    );
    expect(contentMismatch('text/markdown', Buffer.from('# fine'))).toBeUndefined();
  });
});
