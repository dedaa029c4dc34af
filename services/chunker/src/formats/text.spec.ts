import { PermanentError } from '@rag/common';
import { baseContentType } from '@rag/contracts';
import type { Section } from './section';
import { MAX_JSON_DEPTH, textSections, type TextFormat } from './text';

const extract = (contentType: string, text: string): Section[] =>
  textSections(baseContentType(contentType) as TextFormat, Buffer.from(text, 'utf8'));

function permanentErrorOf(fn: () => unknown): PermanentError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PermanentError);
    return err as PermanentError;
  }
  throw new Error('expected a PermanentError, nothing was thrown');
}

describe('textSections', () => {
  describe('text/plain', () => {
    it('is one section without heading, whitespace normalised', () => {
      expect(extract('text/plain; charset=utf-8', '  Line one   \r\nLine two\n\n\n\n\nAfter a gap.  \n')).toEqual([
        { heading: null, text: 'Line one\nLine two\n\nAfter a gap.' },
      ]);
    });

    it('keeps lines starting with # as text', () => {
      expect(extract('text/plain', '# not a heading\nbody')).toEqual([{ heading: null, text: '# not a heading\nbody' }]);
    });
  });

  describe('text/markdown', () => {
    const markdown = [
      'Preamble before any heading.',
      '',
      '# Guide',
      'Intro.',
      '## Install',
      'Run it.',
      '```bash',
      '# install dependencies',
      'npm ci',
      '```',
      '### Linux ###',
      'Use apt.',
      '## Use',
      'Call it.',
      '~~~',
      '## still code',
      '~~~',
      '# Reference',
      '#hashtag is not a heading',
    ].join('\n');
    const sections = extract('text/markdown', markdown);

    it('gives each section its heading path', () => {
      expect(sections.map((s) => s.heading)).toEqual([
        null,
        'Guide',
        'Guide > Install',
        'Guide > Install > Linux',
        'Guide > Use',
        'Reference',
      ]);
      expect(sections.find((s) => s.heading === 'Guide > Install > Linux')?.text).toBe('Use apt.');
    });

    it('does not take # lines inside code fences for headings', () => {
      expect(sections.find((s) => s.heading === 'Guide > Install')?.text).toBe('Run it.\n```bash\n# install dependencies\nnpm ci\n```');
      expect(sections.find((s) => s.heading === 'Guide > Use')?.text).toBe('Call it.\n~~~\n## still code\n~~~');
    });

    it('keeps #words without a space as text', () => {
      expect(sections.at(-1)).toEqual({ heading: 'Reference', text: '#hashtag is not a heading' });
    });

    it('drops sections left empty and skips missing levels in the path', () => {
      expect(extract('text/markdown', '# A\n\n### C\ntext')).toEqual([{ heading: 'A > C', text: 'text' }]);
    });
  });

  describe('text/html', () => {
    it('reads nested HTML, and rejects HTML nested too deeply for its reader with that reason, not a stack overflow', () => {
      const nested = (depth: number) => `<html><body>${'<div><b>'.repeat(depth / 2)}deep${'</b></div>'.repeat(depth / 2)}</body></html>`;
      expect(extract('text/html', nested(2_000))[0].text).toBe('deep');
      // The shape of the pathological-documents chaos test.
      expect(permanentErrorOf(() => extract('text/html', nested(400_000))).message).toBe('HTML document nested too deeply to read');
    });

    const html = `<!doctype html><html><head><title>Page</title>
      <style>body { color: red }</style><script>var secret = "SCRIPT_TEXT";</script></head>
      <body>
        <nav><a href="/">Home</a> <a href="/docs">Docs</a></nav>
        <h1 class="title">Guide</h1><p>Intro with a <a href="https://example.com/x">link</a>.</p>
        <h2>Install</h2><p>Run the installer:</p>
        <pre><code># install dependencies
npm ci</code></pre>
        <p># this paragraph starts with a hash</p>
        <img src="diagram.png" alt="diagram">
        <h3>Linux</h3><ul><li>apt</li><li>dnf</li></ul>
        <h2 id="use">Use</h2><p>Call it.</p>
        <script>alert("SCRIPT_TEXT")</script>
      </body></html>`;
    const sections = extract('text/html; charset=UTF-8', html);
    const all = sections.map((s) => `${s.heading ?? ''}\n${s.text}`).join('\n');

    it('turns h1-h6 into heading paths', () => {
      expect(sections.map((s) => s.heading)).toEqual(['Guide', 'Guide > Install', 'Guide > Install > Linux', 'Guide > Use']);
      expect(sections[0].text).toBe('Intro with a link.');
      expect(sections[3].text).toBe('Call it.');
    });

    it('keeps text lines that start with # (code, prose) as text, not headings', () => {
      const install = sections[1].text;
      expect(install).toContain('Run the installer:');
      expect(install).toContain('# install dependencies');
      expect(install).toContain('npm ci');
      expect(install).toContain('# this paragraph starts with a hash');
    });

    it('drops scripts, styles, navigation, images and link targets', () => {
      for (const gone of ['SCRIPT_TEXT', 'color: red', 'Home', 'diagram', 'https://example.com', '<', '\uE000'])
        expect(all).not.toContain(gone);
      expect(sections[2].text).toContain('apt');
      expect(sections[2].text).toContain('dnf');
    });

    it('handles a page without headings', () => {
      expect(extract('text/html', '<p>Just <b>one</b> paragraph.</p>')).toEqual([{ heading: null, text: 'Just one paragraph.' }]);
    });
  });

  describe('application/json', () => {
    it('becomes `path: value` lines of the string, number and boolean leaves', () => {
      const json = JSON.stringify({
        title: 'Manual',
        tags: ['kafka', 'search'],
        pages: 12,
        draft: false,
        author: { name: 'Ada', email: null },
      });
      expect(extract('application/json', json)).toEqual([
        { heading: null, text: 'title: Manual\ntags[0]: kafka\ntags[1]: search\npages: 12\ndraft: false\nauthor.name: Ada' },
      ]);
    });

    it('indexes top-level arrays', () => {
      expect(extract('application/json', '[{"q":"why"},{"q":"how"}]')[0].text).toBe('[0].q: why\n[1].q: how');
    });

    it('rejects invalid JSON as permanent', () => {
      expect(permanentErrorOf(() => extract('application/json', '{"title": "unterminated')).message).toMatch(/not valid JSON/);
    });

    it('reads JSON nested up to MAX_JSON_DEPTH levels, and rejects deeper JSON with the reason instead of overflowing the stack', () => {
      const nested = (depth: number) => `${'['.repeat(depth)}"leaf"${']'.repeat(depth)}`;
      expect(extract('application/json', nested(MAX_JSON_DEPTH))[0].text).toBe(`${'[0]'.repeat(MAX_JSON_DEPTH)}: leaf`);
      expect(permanentErrorOf(() => extract('application/json', nested(MAX_JSON_DEPTH + 1))).message).toBe(
        `JSON document nested deeper than ${MAX_JSON_DEPTH} levels`,
      );
      // The shape of the pathological-documents chaos test: recursion died here with a RangeError.
      expect(permanentErrorOf(() => extract('application/json', nested(2_000_000))).message).toMatch(/nested deeper/);
    });

    it('rejects JSON without any text leaf as permanent', () => {
      expect(permanentErrorOf(() => extract('application/json', '{"a": null, "b": [], "c": {}}')).message).toMatch(/no text/);
    });
  });

  describe('bad input is a permanent error', () => {
    it('invalid UTF-8', () => {
      const bytes = Buffer.concat([Buffer.from('valid start '), Buffer.from([0xc3, 0x28, 0xff, 0xfe])]);
      expect(permanentErrorOf(() => textSections('text/plain', bytes)).message).toMatch(/UTF-8/);
    });

    it.each(['', '   ', '\n\n\t \r\n'])('empty or whitespace-only content %j', (text) => {
      for (const type of ['text/plain', 'text/markdown', 'text/html']) {
        expect(permanentErrorOf(() => extract(type, text)).message).toMatch(/no text/);
      }
    });

    it('markup without text', () => {
      expect(permanentErrorOf(() => extract('text/html', '<html><script>x()</script><style>p{}</style></html>')).message).toMatch(
        /no text/,
      );
      expect(permanentErrorOf(() => extract('text/markdown', '# Only\n## Headings')).message).toMatch(/no text/);
    });
  });
});
