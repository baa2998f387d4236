export type TokenKind =
  | 'word' // identifiers, keywords, tool globs, dotted paths: stripe/*, args.amount, myproject-agent
  | 'number' // 42, 3.14, 1e3, -5
  | 'money' // $500, $10.00
  | 'string' // "…" or '…'
  | 'punct' // { } ( ) [ ] , : ; = == != < <= > >= ! && ||
  | 'eof'
  | 'invalid'; // a character or literal the lexer could not read (already reported)

export interface Token {
  kind: TokenKind;
  /** The raw text as written. */
  text: string;
  /** Decoded value: string contents, or the number for number/money. */
  value: string | number;
  start: number;
  end: number;
  /** A line break separates this token from the previous one. */
  newlineBefore: boolean;
  /** Whitespace or a comment separates this token from the previous one. */
  spaceBefore: boolean;
}

export interface Comment {
  /** Text after the `#`, without the line break. */
  text: string;
  start: number;
  end: number;
  /** The comment shares its line with code before it. */
  trailing: boolean;
}
