/** A policy file's text with a line index, so offsets turn into line:column cheaply. */
export interface Position {
  offset: number;
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units. */
  column: number;
}

export interface Span {
  start: number;
  end: number;
}

export class Source {
  private readonly lineStarts: number[];

  constructor(
    /** The name diagnostics and rule references use, e.g. `governance.fms`. */
    readonly name: string,
    readonly text: string,
  ) {
    const starts = [0];
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
    this.lineStarts = starts;
  }

  get lineCount(): number {
    return this.lineStarts.length;
  }

  position(offset: number): Position {
    const line = this.lineOf(offset);
    return { offset, line, column: offset - this.lineStarts[line - 1]! + 1 };
  }

  lineOf(offset: number): number {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  /** The text of a 1-based line, without its line break. */
  lineText(line: number): string {
    const start = this.lineStarts[line - 1];
    if (start === undefined) return '';
    const next = this.lineStarts[line];
    const end = next === undefined ? this.text.length : next - 1;
    return this.text.slice(start, end).replace(/\r$/, '');
  }
}

/** Decode policy bytes. Invalid UTF-8 is replaced (U+FFFD) and its first offset reported. */
export function decodePolicyBytes(bytes: Uint8Array): { text: string; invalidUtf8At?: number } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes) };
  } catch {
    const text = new TextDecoder('utf-8', { fatal: false, ignoreBOM: false }).decode(bytes);
    return { text, invalidUtf8At: Math.max(0, text.indexOf('\uFFFD')) };
  }
}
