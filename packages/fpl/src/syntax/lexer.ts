import type { Diagnostics } from './diagnostics.js';
import type { Source } from './source.js';
import type { Comment, Token } from './tokens.js';

const NUMBER = /^-?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const TWO_CHAR_PUNCT = new Set(['==', '!=', '<=', '>=', '&&', '||']);
const ONE_CHAR_PUNCT = new Set(['{', '}', '(', ')', '[', ']', ',', ':', ';', '=', '<', '>', '!']);

/** Characters allowed inside a word: identifiers, dotted paths, tool globs (`stripe/*`), ids (`my-agent`). */
function isWordChar(c: number): boolean {
  return (
    (c >= 97 && c <= 122) || // a-z
    (c >= 65 && c <= 90) || // A-Z
    (c >= 48 && c <= 57) || // 0-9
    c === 95 || // _
    c === 45 || // -
    c === 46 || // .
    c === 47 || // /
    c === 42 || // *
    c === 64 || // @
    (c > 127 && isUnicodeWordChar(c))
  );
}

function isWordStart(c: number): boolean {
  return isWordChar(c) && c !== 45 && c !== 64;
}

const UNICODE_WORD = /[\p{L}\p{N}\p{M}]/u;
function isUnicodeWordChar(c: number): boolean {
  // Surrogate halves: accept, the pair forms a character that is checked as a whole by the checker.
  if (c >= 0xd800 && c <= 0xdfff) return true;
  return UNICODE_WORD.test(String.fromCharCode(c));
}

/**
 * A pull lexer: the parser asks for one token at a time, so it can switch to raw reading where
 * FPL is line-oriented (the `trust` block's `key "…" ed25519:…`).
 */
export class Lexer {
  private pos = 0;
  private readonly text: string;
  readonly comments: Comment[] = [];
  private lastTokenEnd = 0;

  constructor(
    readonly source: Source,
    private readonly diagnostics: Diagnostics,
  ) {
    this.text = source.text;
    if (this.text.charCodeAt(0) === 0xfeff) this.pos = 1;
  }

  get offset(): number {
    return this.pos;
  }

  next(): Token {
    const { newline, space } = this.skipTrivia();
    const start = this.pos;
    const text = this.text;
    if (start >= text.length) return this.make('eof', '', '', start, newline, space);
    const c = text.charCodeAt(start);

    if (c === 34 || c === 39) return this.string(c, newline, space);
    if (c === 36) return this.money(newline, space);
    if ((c >= 48 && c <= 57) || (c === 45 && isDigit(text.charCodeAt(start + 1)))) {
      // Read a whole word run: "1e3" is a number, "24h" or "3d/thing" is a word.
      let end = start + 1;
      for (;;) {
        while (end < text.length && isWordChar(text.charCodeAt(end))) end++;
        // An exponent's sign (`1e+3`, `2E-4`) belongs to the number, not to an operator after it.
        const sign = text.charCodeAt(end);
        if ((sign === 43 || sign === 45) && /^-?[\d.]+[eE]$/.test(text.slice(start, end)) && isDigit(text.charCodeAt(end + 1))) end++;
        else break;
      }
      const raw = text.slice(start, end);
      this.pos = end;
      if (NUMBER.test(raw)) return this.number(raw, start, newline, space);
      return this.make('word', raw, raw, start, newline, space);
    }
    if (isWordStart(c)) {
      let end = start + 1;
      while (end < text.length && isWordChar(text.charCodeAt(end))) end++;
      this.pos = end;
      const raw = text.slice(start, end);
      return this.make('word', raw, raw, start, newline, space);
    }
    const two = text.slice(start, start + 2);
    if (TWO_CHAR_PUNCT.has(two)) {
      this.pos = start + 2;
      return this.make('punct', two, two, start, newline, space);
    }
    const one = text[start]!;
    if (ONE_CHAR_PUNCT.has(one)) {
      this.pos = start + 1;
      return this.make('punct', one, one, start, newline, space);
    }
    // Anything else is reported once per run of bad characters and skipped.
    let end = start + 1;
    if (c >= 0xd800 && c <= 0xdbff) end++;
    this.pos = end;
    this.diagnostics.error(
      this.source,
      { start, end },
      'unexpected-character',
      `unexpected character ${describeChar(text.codePointAt(start)!)}`,
    );
    return this.make('invalid', text.slice(start, end), '', start, newline, space);
  }

  /** Move back to `offset` (at most to the end of the last consumed token), forgetting comments read past it. */
  rewindTo(offset: number): void {
    this.pos = offset;
    this.lastTokenEnd = offset;
    while (this.comments.length > 0 && this.comments[this.comments.length - 1]!.start >= offset) this.comments.pop();
  }

  /**
   * Read the rest of the current line verbatim (trimmed, comment removed). Used for line-oriented
   * entries whose values are not FPL tokens, such as `ed25519:nxNj…sFs=`.
   */
  restOfLine(): { text: string; start: number; end: number } {
    let start = this.pos;
    while (start < this.text.length && (this.text[start] === ' ' || this.text[start] === '\t')) start++;
    const parts: string[] = [];
    let end = start;
    let lineStart = start;
    for (;;) {
      // Quotes protect '#' and '}'. An unbalanced quote would make that depend on line layout (fmt
      // could change the meaning), so it is an error, and then it is just a character.
      const eol = this.text.indexOf('\n', end) === -1 ? this.text.length : this.text.indexOf('\n', end);
      const balanced = (this.text.slice(end, eol).split('"').length - 1) % 2 === 0;
      if (!balanced) {
        this.diagnostics.error(
          this.source,
          { start: end, end: eol },
          'unterminated-string',
          'unbalanced quote in a trust entry',
          'close the quoted value on the same line',
        );
      }
      let quoted = false;
      while (end < eol && (quoted || (this.text[end] !== '#' && this.text[end] !== '}'))) {
        if (balanced && this.text[end] === '"') quoted = !quoted;
        end++;
      }
      const line = this.text.slice(lineStart, end).trim();
      // A trailing backslash continues the entry on the next line.
      if (line.endsWith('\\') && this.text[end] === '\n') {
        parts.push(line.slice(0, -1).trim());
        lineStart = ++end;
        continue;
      }
      if (line.endsWith('\\')) {
        // Printed on a line of its own it would continue onto the next line: ambiguous, so refused.
        this.diagnostics.error(
          this.source,
          { start: end - 1, end },
          'unexpected-character',
          'a trust entry cannot end with a backslash here',
          'end the line after the backslash to continue the entry, or remove it',
        );
      }
      parts.push(line);
      break;
    }
    let trimmedEnd = end;
    while (trimmedEnd > start && /\s/.test(this.text[trimmedEnd - 1]!)) trimmedEnd--;
    this.pos = trimmedEnd;
    this.lastTokenEnd = trimmedEnd;
    return { text: parts.filter(Boolean).join(' '), start, end: trimmedEnd };
  }

  private make(kind: Token['kind'], text: string, value: string | number, start: number, newline: boolean, space: boolean): Token {
    this.lastTokenEnd = this.pos;
    return { kind, text, value, start, end: this.pos, newlineBefore: newline, spaceBefore: space };
  }

  private skipTrivia(): { newline: boolean; space: boolean } {
    const text = this.text;
    let newline = this.lastTokenEnd === 0;
    let space = false;
    while (this.pos < text.length) {
      const c = text.charCodeAt(this.pos);
      if (c === 10) {
        newline = true;
        space = true;
        this.pos++;
      } else if (c === 32 || c === 9 || c === 13 || c === 12 || c === 11) {
        space = true;
        this.pos++;
      } else if (c === 92 && (text[this.pos + 1] === '\n' || text.startsWith('\r\n', this.pos + 1))) {
        // A backslash at the end of a line continues the line (used in `trust` entries).
        space = true;
        this.pos += text[this.pos + 1] === '\n' ? 2 : 3;
      } else if (c === 35) {
        const start = this.pos;
        let end = text.indexOf('\n', start);
        if (end === -1) end = text.length;
        const body = text.slice(start + 1, end).replace(/\r$/, '');
        this.checkHidden(body, start + 1, 'comment');
        this.comments.push({ text: body, start, end: start + 1 + body.length, trailing: !newline });
        this.pos = end;
        space = true;
      } else {
        break;
      }
    }
    return { newline, space };
  }

  private string(quote: number, newline: boolean, space: boolean): Token {
    const text = this.text;
    const start = this.pos;
    let i = start + 1;
    let value = '';
    let chunkStart = i;
    for (;;) {
      if (i >= text.length || text.charCodeAt(i) === 10) {
        this.pos = i;
        this.diagnostics.error(
          this.source,
          { start, end: i },
          'unterminated-string',
          'unterminated string literal',
          'close the string with a matching quote on the same line',
        );
        return this.make('invalid', text.slice(start, i), value + text.slice(chunkStart, i), start, newline, space);
      }
      const c = text.charCodeAt(i);
      if (c === quote) break;
      if (c === 92) {
        value += text.slice(chunkStart, i);
        const esc = text[i + 1];
        const decoded = this.escape(esc, i);
        value += decoded.value;
        i += decoded.length;
        chunkStart = i;
        continue;
      }
      if (c < 32 && c !== 9) {
        this.diagnostics.error(
          this.source,
          { start: i, end: i + 1 },
          'unexpected-character',
          `control character ${describeChar(c)} in string literal`,
          'write it as an escape, e.g. \\n or \\u0000',
        );
      }
      i++;
    }
    value += text.slice(chunkStart, i);
    this.checkHidden(text.slice(start + 1, i), start + 1, 'string');
    this.pos = i + 1;
    return this.make('string', text.slice(start, i + 1), value, start, newline, space);
  }

  /**
   * Line separators other than \n (a lone CR, U+2028, U+2029) and bidirectional controls make
   * editors and code review show text that is not what FPL reads ("trojan source"): refused.
   */
  private checkHidden(text: string, offset: number, where: string): void {
    const m = /\r(?!$)|[\u2028\u2029\u202a-\u202e\u2066-\u2069]/.exec(text);
    if (!m) return;
    const code = m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    this.diagnostics.error(
      this.source,
      { start: offset + m.index, end: offset + m.index + 1 },
      'hidden-character',
      `U+${code} in a ${where} can make editors show text that is not what the policy says`,
      'remove it (use \\n or \\uXXXX escapes inside strings if you need such a character)',
    );
  }

  private escape(esc: string | undefined, at: number): { value: string; length: number } {
    switch (esc) {
      case '"':
      case "'":
      case '\\':
      case '/':
        return { value: esc, length: 2 };
      case 'n':
        return { value: '\n', length: 2 };
      case 't':
        return { value: '\t', length: 2 };
      case 'r':
        return { value: '\r', length: 2 };
      case 'u': {
        const hex = this.text.slice(at + 2, at + 6);
        if (/^[0-9a-fA-F]{4}$/.test(hex)) return { value: String.fromCharCode(parseInt(hex, 16)), length: 6 };
        break;
      }
    }
    this.diagnostics.error(
      this.source,
      { start: at, end: at + 2 },
      'invalid-escape',
      `invalid escape sequence '\\${esc ?? ''}'`,
      'escape a backslash as \\\\ (in regexes too: "\\\\d+")',
    );
    return { value: esc ?? '', length: esc === undefined ? 1 : 2 };
  }

  private money(newline: boolean, space: boolean): Token {
    const text = this.text;
    const start = this.pos;
    let end = start + 1;
    while (end < text.length && isWordChar(text.charCodeAt(end))) end++;
    this.pos = end;
    const raw = text.slice(start + 1, end);
    if (!/^(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?$/.test(raw)) {
      this.diagnostics.error(
        this.source,
        { start, end },
        'invalid-money',
        `invalid money literal '${text.slice(start, end)}'`,
        'write dollars as $500 or $10.00',
      );
      return this.make('invalid', text.slice(start, end), 0, start, newline, space);
    }
    const problem = numberProblem(raw);
    if (problem) {
      this.diagnostics.error(this.source, { start, end }, 'invalid-number', `${text.slice(start, end)} ${problem}`);
      // Reported; a placeholder keeps the parser going without a second error.
      return this.make('money', text.slice(start, end), 0, start, newline, space);
    }
    return this.make('money', text.slice(start, end), Number(raw), start, newline, space);
  }

  private number(raw: string, start: number, newline: boolean, space: boolean): Token {
    const problem = numberProblem(raw);
    if (problem) {
      this.diagnostics.error(this.source, { start, end: this.pos }, 'invalid-number', `${raw} ${problem}`);
      // Reported; a placeholder keeps the parser going without a second error.
      return this.make('number', raw, 0, start, newline, space);
    }
    return this.make('number', raw, Number(raw), start, newline, space);
  }
}

/** Numbers must survive the trip to JSON and back exactly: finite, and integers within 2^53. */
export function numberProblem(raw: string): string | undefined {
  const n = Number(raw);
  if (!Number.isFinite(n)) return 'is too large a number';
  // `1e-400` is not 0: a value too small to represent is refused, as one too large is.
  if (n === 0 && /[1-9]/.test(raw.replace(/[eE].*$/, ''))) return 'is too small a number (it would be read as 0)';
  // `9007199254740993.0` and `1e17` are whole numbers too: past 2^53 − 1 they are rounded, so refused.
  if (Number.isInteger(n) && !Number.isSafeInteger(n))
    return `is too large to represent exactly (the largest whole number is ${Number.MAX_SAFE_INTEGER})`;
  return undefined;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function describeChar(code: number): string {
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  if (code < 32 || code === 127) return hex;
  if (code === 0xfffd) return `${hex} (invalid UTF-8)`;
  return `'${String.fromCodePoint(code)}' (${hex})`;
}
