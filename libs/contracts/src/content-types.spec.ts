import { resolveUploadContentType } from './content-types';

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
    expect(resolveUploadContentType('application/octet-stream', 'scan.pdf')).toBeUndefined();
    expect(resolveUploadContentType(undefined, 'Makefile')).toBeUndefined();
    expect(resolveUploadContentType(undefined, undefined)).toBeUndefined();
    expect(resolveUploadContentType('', '.md.')).toBeUndefined();
  });

  it('does not let a supported extension override a specific unsupported declared type', () => {
    expect(resolveUploadContentType('application/pdf', 'report.txt')).toBeUndefined();
    expect(resolveUploadContentType('image/png', 'image.md')).toBeUndefined();
  });
});
