/**
 * A run of text under one heading path ("Guide > Install"), with where it sits in its file:
 * a PDF page, a PPTX slide or an XLSX sheet. Sections are what the splitter merges and cuts.
 */
export interface Section {
  heading: string | null;
  text: string;
  page?: number;
  slide?: number;
  sheet?: string;
}

/** Resource bounds of one document's extraction (CHUNKER_MAX_PAGES, CHUNKER_MAX_UNZIPPED_MB). */
export interface ExtractionLimits {
  maxPages: number;
  maxUnzippedBytes: number;
}

export function normaliseWhitespace(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t\f\v\u00a0]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
