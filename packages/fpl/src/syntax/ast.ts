/**
 * The FPL syntax tree. It mirrors what was written (so the printer can reproduce it) but is
 * already normalised where spellings are synonyms: `when` → `if`, `allow`/`approve` → `permit`,
 * `block`/`reject` → `deny`, `&&`/`||`/`!` → `and`/`or`/`not`, `x.starts_with("y")` → `startsWith`.
 * Every node carries its span; YAML and JSON forms build the same nodes with their own spans.
 */
import type { Comment } from './tokens.js';
import type { Source, Span } from './source.js';

export interface FileNode {
  kind: 'File';
  source: Source;
  items: TopItem[];
  comments: Comment[];
  span: Span;
}

/** What the parser accepts at the top level; the checker reports what does not belong there. */
export type TopItem = ImportNode | BodyItem;

export interface ImportNode {
  kind: 'Import';
  path: StringLit;
  alias?: WordLit;
  span: Span;
}

/** `name [label…] { body }`: runtime, provider, agent, rules, budget, egress, phase, … */
export interface BlockNode {
  kind: 'Block';
  type: string;
  typeSpan: Span;
  labels: (StringLit | WordLit)[];
  body: BodyItem[];
  span: Span;
}

export type BodyItem = BlockNode | AttributeNode | RuleNode | RateLimitNode | RedactNode | CostNode | VarNode | UseNode | TrustEntryNode;

/** `name = value`, or `name value` (`default deny`, `max $500`, `require "…"`). */
export interface AttributeNode {
  kind: 'Attribute';
  name: string;
  nameSpan: Span;
  value: ValueNode;
  /** Written with `=`. The printer keeps the block's conventional form. */
  equals: boolean;
  /** Unparsed tokens after a `name value` field on the same line (reported by the checker). */
  junk?: Span;
  span: Span;
}

export type PolicyEffectWord = 'permit' | 'defer' | 'deny';

export interface RuleNode {
  kind: 'Rule';
  effect: PolicyEffectWord;
  /** `deny!`: no later rule may permit what this denies. */
  strict: boolean;
  effectSpan: Span;
  tool: ToolPatternNode;
  condition?: ExprNode;
  host?: ClauseValue;
  method?: ClauseValue;
  path?: ClauseValue;
  reason?: StringLit;
  notify?: StringLit;
  span: Span;
}

export interface ToolPatternNode {
  kind: 'ToolPattern';
  text: string;
  quoted: boolean;
  span: Span;
}

export type ClauseValue = StringLit | WordLit;

/** `rate_limit "stripe/*": 10 per minute` */
export interface RateLimitNode {
  kind: 'RateLimit';
  pattern: StringLit | WordLit;
  limit: NumberLit;
  window: WordLit;
  span: Span;
}

/** `cost "stripe/*": $0.02`: the dollar cost budgets charge for a call that reports none. */
export interface CostNode {
  kind: 'Cost';
  pattern: StringLit | WordLit;
  amount: NumberLit | MoneyLit;
  span: Span;
}

/** `redact stripe/charge args: ["card_number", "cvv"]` */
export interface RedactNode {
  kind: 'Redact';
  tool: ToolPatternNode;
  paths: ListLit;
  span: Span;
}

/** `var prod_host = "api.example.com"` */
export interface VarNode {
  kind: 'Var';
  name: string;
  nameSpan: Span;
  value: ValueNode;
  span: Span;
}

/** `use stripe_rules { refund_threshold = 500 }`: apply an aliased policy pack to this agent. */
export interface UseNode {
  kind: 'Use';
  alias: WordLit;
  params: AttributeNode[];
  span: Span;
}

/** A line of the `trust` block: `key "<id>" ed25519:<base64>` and friends, kept verbatim. */
export interface TrustEntryNode {
  kind: 'TrustEntry';
  keyword: string;
  keywordSpan: Span;
  subject?: StringLit;
  /** The rest of the line, verbatim. */
  rest: { text: string; span: Span };
  span: Span;
}

// ---- values and expressions -------------------------------------------------------------

export interface StringLit {
  kind: 'String';
  value: string;
  span: Span;
}
export interface NumberLit {
  kind: 'Number';
  value: number;
  raw: string;
  span: Span;
}
export interface MoneyLit {
  kind: 'Money';
  value: number;
  raw: string;
  span: Span;
}
export interface BoolLit {
  kind: 'Bool';
  value: boolean;
  span: Span;
}
export interface NilLit {
  kind: 'Nil';
  span: Span;
}
/** A bare word used as a value: `deny`, `enforce`, `24h`, `GET`, `/v1/*`, a var name. */
export interface WordLit {
  kind: 'Word';
  value: string;
  span: Span;
}
export interface ListLit {
  kind: 'List';
  items: ValueNode[];
  span: Span;
}
/** `{ key = value … }` used as a value (maps such as an `env` of a spawned server). */
export interface MapLit {
  kind: 'Map';
  entries: AttributeNode[];
  span: Span;
}
/** `env("NAME")`: resolved at compile time. */
export interface EnvCall {
  kind: 'Env';
  name: StringLit;
  span: Span;
}

export type ValueNode = StringLit | NumberLit | MoneyLit | BoolLit | NilLit | WordLit | ListLit | MapLit | EnvCall;

/** A variable in a condition: `amount`, `args.to`, `principal.groups`, `time.hour`, `headers.x-key`. */
export interface RefNode {
  kind: 'Ref';
  path: string[];
  span: Span;
}

export type BinaryOp = 'and' | 'or' | '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'contains' | 'matches' | 'startsWith' | 'endsWith';

export interface BinaryNode {
  kind: 'Binary';
  op: BinaryOp;
  left: ExprNode;
  right: ExprNode;
  opSpan: Span;
  span: Span;
}

export interface NotNode {
  kind: 'Not';
  operand: ExprNode;
  span: Span;
}

/** Parentheses are kept so spans and error positions stay exact; they carry no meaning. */
export interface ParenNode {
  kind: 'Paren';
  inner: ExprNode;
  span: Span;
}

export type ExprNode = StringLit | NumberLit | MoneyLit | BoolLit | NilLit | ListLit | EnvCall | RefNode | BinaryNode | NotNode | ParenNode;

export const COMPARISON_OPS: ReadonlySet<BinaryOp> = new Set([
  '==',
  '!=',
  '<',
  '<=',
  '>',
  '>=',
  'in',
  'contains',
  'matches',
  'startsWith',
  'endsWith',
]);
