/**
 * Redaction: the listed argument paths are masked in everything emitted for recording (the args
 * digest, approval views, sink payloads). Conditions always see the original arguments.
 *
 * Paths: `card_number`, `card.number`, `items[*].card`, `items.*.card`; a key containing dots
 * (`.env`, `secrets.json`) is also matched as a literal key, as well as the nested path.
 */
import { foldKey } from '@faramesh/protocol';

export const REDACTED = '[REDACTED]';

export function redact(
  args: Record<string, unknown>,
  paths: readonly string[],
  parsed: readonly string[][] = paths.map(parsePath),
): Record<string, unknown> {
  if (paths.length === 0) return args;
  const copy = structuredCloneJson(args) as Record<string, unknown>;
  paths.forEach((path, i) => {
    // Both spellings a path can name are masked: a literal key `card.number` beside a nested
    // `card: { number }` must not leave the nested value in the clear.
    if (Object.hasOwn(copy, path)) copy[path] = REDACTED;
    mask(copy, parsed[i]!, 0);
  });
  return copy;
}

export function parsePath(path: string): string[] {
  return path
    .replace(/\[(\*|\d+)\]/g, '.$1')
    .split('.')
    .filter((s) => s !== '');
}

function mask(node: unknown, segments: string[], i: number): void {
  if (node === null || typeof node !== 'object' || i >= segments.length) return;
  const seg = segments[i]!;
  // A list where the path names a field (`card: [{ cvv }]` for `card.cvv`): the field of each of its
  // items is masked. The model chooses the shape, and a tool that takes one or many still gets the secret.
  if (Array.isArray(node) && seg !== '*' && !/^\d+$/.test(seg)) {
    for (const item of node) mask(item, segments, i);
    return;
  }
  const container = node as Record<string, unknown>;
  if (seg === '*')
    for (const k of Object.keys(node)) {
      if (i === segments.length - 1) container[k] = REDACTED;
      else mask(container[k], segments, i + 1);
    }
  // A key here may hold dots itself (`config: { "api.key": … }` for `config.api.key`): each run of the
  // path's segments that names a key is followed, so no mix of the two spellings keeps the value.
  for (let j = seg === '*' ? i + 1 : i; j < segments.length; j++) {
    const run = segments.slice(i, j + 1);
    // A run with a `*` (`config.*` against a key `config.api_key`) names keys by their parts.
    const keys = j > i && run.includes('*') ? keysMatching(container, run) : keysNamed(container, run.join('.'));
    for (const key of keys) {
      if (j === segments.length - 1) container[key] = REDACTED;
      else mask(container[key], segments, j + 1);
    }
  }
}

/** Each object's dotted keys, split at their dots once folded, made on first use. */
const dottedParts = new WeakMap<object, [key: string, parts: string[]][]>();

/** The keys of `obj` whose dots split them into `run`'s segments, `*` standing for any one. */
function keysMatching(obj: Record<string, unknown>, run: string[]): string[] {
  let dotted = dottedParts.get(obj);
  if (!dotted) {
    dotted = [];
    for (const k of Object.keys(obj)) {
      const parts = foldKey(k).split('.');
      if (parts.length > 1) dotted.push([k, parts]);
    }
    dottedParts.set(obj, dotted);
  }
  const want = run.map((s) => (s === '*' ? s : foldKey(s)));
  return dotted
    .filter(([, parts]) => parts.length === want.length && parts.every((p, n) => want[n] === '*' || want[n] === p))
    .map(([k]) => k);
}

/** Each object's keys by their folded name, made on first use. */
const byFold = new WeakMap<object, Map<string, string[]>>();

/**
 * The keys of `obj` that name `key`: itself, and any spelling one case or Unicode form apart
 * (`Card_Number` for `card_number`), which a lenient decoder hands the tool as that field and the
 * engine reads as it (so its value must not reach the record or an approver in the clear).
 */
function keysNamed(obj: Record<string, unknown>, key: string): string[] {
  let folded = byFold.get(obj);
  if (!folded) {
    folded = new Map();
    for (const k of Object.keys(obj)) {
      const f = foldKey(k);
      const same = folded.get(f);
      if (same) same.push(k);
      else folded.set(f, [k]);
    }
    byFold.set(obj, folded);
  }
  return folded.get(foldKey(key)) ?? [];
}

/** A deep copy of JSON-like data (arguments arrive as JSON). */
function structuredCloneJson(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(structuredCloneJson);
  // fromEntries defines keys: an assignment would turn a `__proto__` key into the copy's prototype.
  return Object.fromEntries(Object.keys(v).map((k) => [k, structuredCloneJson((v as Record<string, unknown>)[k])]));
}
