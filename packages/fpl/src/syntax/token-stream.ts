import type { Diagnostics } from './diagnostics.js';
import { Lexer } from './lexer.js';
import type { Source, Span } from './source.js';
import type { Token } from './tokens.js';

/** A buffered view of the lexer with lookahead, shared by the item and expression parsers. */
export class TokenStream {
  private readonly buffer: Token[] = [];
  readonly lexer: Lexer;
  /** End offset of the last consumed token. */
  lastEnd = 0;

  constructor(
    readonly source: Source,
    readonly diagnostics: Diagnostics,
  ) {
    this.lexer = new Lexer(source, diagnostics);
  }

  peek(n = 0): Token {
    while (this.buffer.length <= n) this.buffer.push(this.lexer.next());
    return this.buffer[n]!;
  }

  next(): Token {
    const token = this.peek();
    this.buffer.shift();
    this.lastEnd = token.end;
    return token;
  }

  isPunct(text: string, n = 0): boolean {
    const t = this.peek(n);
    return t.kind === 'punct' && t.text === text;
  }

  isWord(text: string, n = 0): boolean {
    const t = this.peek(n);
    return t.kind === 'word' && t.text === text;
  }

  eat(text: string): Token | undefined {
    return this.isPunct(text) ? this.next() : undefined;
  }

  /** Read raw text from the end of the last consumed token to the end of its line. */
  restOfLine(): { text: string; span: Span } {
    // Drop lookahead: those characters are re-read raw.
    this.buffer.length = 0;
    this.lexer.rewindTo(this.lastEnd);
    const raw = this.lexer.restOfLine();
    this.lastEnd = raw.end;
    return { text: raw.text, span: { start: raw.start, end: raw.end } };
  }

  error(span: Span, code: string, message: string, hint?: string): void {
    this.diagnostics.error(this.source, span, code, message, hint);
  }

  describe(token: Token): string {
    if (token.kind === 'eof') return 'end of file';
    if (token.kind === 'string') return `string ${truncate(token.text)}`;
    return `'${truncate(token.text)}'`;
  }
}

function truncate(s: string): string {
  return s.length > 40 ? `${s.slice(0, 37)}…` : s;
}

/** Thrown to abandon the current item after its error was reported; the parser then resyncs. */
export class ParseAbort extends Error {
  constructor() {
    super('parse abort');
  }
}
