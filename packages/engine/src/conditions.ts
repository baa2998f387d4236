/**
 * Conditions compiled to closures once, when a policy is prepared. Evaluation is total: it never
 * throws, and a comparison that touches a missing field or mixes types is *unknown*, so a rule
 * only matches when its condition is definitely true.
 */
import { createRequire } from 'node:module';
import type { RE2JS } from 're2js';
import type { ExprIR } from '@faramesh/fpl/runtime';
import type { EvalEnv } from './env.js';
import { and, getPath, MISSHAPEN, MISSING, not, or, type Truth, type Value } from './values.js';
import { isIPv6 } from 'node:net';
import { domainToASCII } from 'node:url';
import { normaliseHost } from './stages/egress.js';
import { ambiguousPath, lexicalPath, pathSpellings, withoutTrailingSlash } from './paths.js';
import { realDateTime } from '@faramesh/protocol';

export type Predicate = (env: EvalEnv) => Truth;
type Getter = (env: EvalEnv) => Value;

export function compileCondition(expr: ExprIR): Predicate {
  if ('op' in expr) {
    switch (expr.op) {
      case 'and': {
        const [a, b] = expr.args.map(compileCondition) as [Predicate, Predicate];
        return (env) => {
          const before = env.mismatch;
          const x = a(env);
          return settled(env, before, x === false ? false : and(x, b(env)));
        };
      }
      case 'or': {
        const [a, b] = expr.args.map(compileCondition) as [Predicate, Predicate];
        return (env) => {
          const before = env.mismatch;
          const x = a(env);
          return settled(env, before, x === true ? true : or(x, b(env)));
        };
      }
      case 'not': {
        const a = compileCondition(expr.args[0]);
        return (env) => not(a(env));
      }
      default: {
        // The literal a host or method is compared with, on either side, is read as the value is.
        const [left, right] = expr.args;
        const kl = readAs(left);
        const kr = readAs(right);
        // What a path is compared with is a path too, on either side, whatever supplies it.
        // Compared whole (`==`, `in`), `.env/` and `.env` are one file: both sides lose a trailing `/`.
        // A prefix keeps it: `secrets/` starts with `secrets/`, and `secrets` (the name) need not.
        if (kl === 'path' && !kr && PATH_ON_LEFT.has(expr.op)) {
          const whole = expr.op !== 'startsWith';
          return compileComparison(expr.op, fileOf(compileValue(left), whole), right, 'path', pathOperand(right, whole));
        }
        if (kr === 'path' && !kl && PATH_ON_RIGHT.has(expr.op))
          return compileComparison(expr.op, pathOperand(left, true), right, false, fileOf(compileValue(right), true));
        const l = kr && !kl ? literalsAs(kr, expr.op, left) : isNow(right) ? instants(expr.op, left) : left;
        const r = kl ? literalsAs(kl, expr.op, right) : isNow(left) ? instants(expr.op, right) : right;
        return compileComparison(expr.op, compileValue(l), r, kl === 'path' ? 'path' : kl !== undefined);
      }
    }
  }
  // A bare value used as a condition: true only when it is the boolean true.
  const get = compileValue(expr);
  return (env) => {
    const v = get(env);
    return typeof v === 'boolean' ? v : judged(env, v, false, undefined);
  };
}

/**
 * `t`; when it is known, a mismatch noted while computing it is forgotten: an operand it overrode
 * (`n == "x" or n == 5` with `n: 5`) is not why an enclosing condition is unknown.
 */
function settled(env: EvalEnv, before: boolean, t: Truth): Truth {
  if (t !== undefined) env.mismatch = before;
  return t;
}

/** Present: neither missing nor null (a null compares as a missing field does, never as a type error). */
const present = (v: Value): boolean => v !== MISSING && v !== undefined && v !== null;

/**
 * `t`, noting in `env` when it is unknown although both sides were there (their kinds do not
 * compare), or a path met another shape than it reads: that value is there too, whatever the other
 * side is (`payment.amount == nil` with `payment: "x"` must not skip the deny it guards).
 */
function judged(env: EvalEnv, a: Value, b: Value, t: Truth): Truth {
  if (t === undefined && (a === MISSHAPEN || b === MISSHAPEN || (present(a) && present(b)))) env.mismatch = true;
  return t;
}

/**
 * `reading`: true for a host or method (case-insensitive: the value is lower or upper case, so `host
 * matches "Evil"` still matches); 'path' for a path, whose regex is tried on both its spellings.
 */
function compileComparison(
  op: string,
  left: Getter,
  rightIR: ExprIR,
  reading: boolean | 'path' = false,
  right: Getter = compileValue(rightIR),
): Predicate {
  if (op === 'matches') {
    const pattern = 'lit' in rightIR && typeof rightIR.lit === 'string' ? rightIR.lit : undefined;
    const re = pattern === undefined ? undefined : compileRegex(pattern, reading === true);
    const test = re && reading === 'path' ? (v: string) => pathSpellings(v).some((p) => re.test(p)) : (v: string) => re?.test(v);
    return (env) => {
      const v = left(env);
      return typeof v === 'string' ? (re ? test(v) : undefined) : judged(env, v, re, undefined);
    };
  }
  // `a.pem/` ends with `.pem` as the file it names, and with `/` as it was spelt: either suffix counts.
  const test =
    reading === 'path' && op === 'endsWith'
      ? (a: Value, b: Value) => strings(a, b, (x, y) => x.endsWith(y) || withoutTrailingSlash(x).endsWith(y))
      : comparator(op);
  if (!test) return () => undefined;
  return (env) => {
    const before = env.mismatch;
    const a = left(env);
    const b = right(env);
    return settled(env, before, judged(env, a, b, test(a, b)));
  };
}

function comparator(op: string): ((a: Value, b: Value) => Truth) | undefined {
  switch (op) {
    case '==':
      return equals;
    case '!=':
      return (a, b) => not(equals(a, b));
    case '<':
      return (a, b) => order(a, b, (c) => c < 0);
    case '<=':
      return (a, b) => order(a, b, (c) => c <= 0);
    case '>':
      return (a, b) => order(a, b, (c) => c > 0);
    case '>=':
      return (a, b) => order(a, b, (c) => c >= 0);
    case 'in':
      return (a, b) => member(b, a);
    case 'contains':
      return contains;
    case 'startsWith':
      return (a, b) => strings(a, b, (x, y) => x.startsWith(y));
    case 'endsWith':
      return (a, b) => strings(a, b, (x, y) => x.endsWith(y));
    default:
      return undefined;
  }
}

/**
 * The variables read in one form whatever the request's spelling, whose literals are read so too:
 * `host` in lower case (as egress reads it), `method` in upper case (as the `method` clause compares
 * it), `path` resolved (lexicalPath).
 */
function readAs(e: ExprIR): 'host' | 'method' | 'path' | undefined {
  if (!('var' in e) || e.var.length !== 1) return undefined;
  return e.var[0] === 'host' || e.var[0] === 'method' || e.var[0] === 'path' ? e.var[0] : undefined;
}

const isNow = (e: ExprIR): boolean => 'var' in e && e.var.length === 2 && e.var[0] === 'time' && e.var[1] === 'now';

/** An RFC 3339 date and time, with or without seconds, fraction and offset (without one it is UTC, as `time.*` is). */
const DATE_TIME = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)([Zz]|[+-]\d{2}:\d{2})?$/;

/**
 * The timestamps `time.now` is compared with, written as `time.now` is (`2026-06-01T00:00:00.000Z`),
 * so that comparing the strings compares the instants: `"2026-06-01T00:00:00+09:00"` is 15:00 UTC
 * the day before, and `"…T00:00:00Z"` is not later than `"…T00:00:00.500Z"`.
 */
function instants(op: string, e: ExprIR): ExprIR {
  if (!['==', '!=', '<', '<=', '>', '>=', 'in'].includes(op)) return e;
  const one = (v: unknown) => {
    const m = typeof v === 'string' ? DATE_TIME.exec(v) : null;
    // An impossible date (`2026-02-30`) is compared as written: read as an instant it would roll over.
    if (
      !m ||
      !realDateTime(...(m[1]!.split('-').map(Number) as [number, number, number]), ...(m[2]!.split(':').map(Number) as [number, number]))
    )
      return v;
    const ms = Date.parse(`${m[1]}T${m[2]}${(m[3] ?? 'Z').toUpperCase()}`);
    return Number.isFinite(ms) && ms >= 0 && ms < 253402300800000 ? new Date(ms).toISOString() : v;
  };
  if ('lit' in e) return { lit: (Array.isArray(e.lit) ? e.lit.map(one) : one(e.lit)) as typeof e.lit };
  if ('list' in e) return { list: e.list.map((item) => instants(op, item)) };
  return e;
}

function literalsAs(kind: 'host' | 'method' | 'path', op: string, e: ExprIR): ExprIR {
  // A path's operand is read by pathOperand; the rest (`path endsWith ".pem"`) as written.
  return kind === 'host' ? hostLiterals(op, e) : kind === 'method' ? methodLiterals(op, e) : e;
}

/**
 * The operators whose other side names a path, by the side `path` is on: `path startsWith "secrets/"`,
 * `path in blocked`, `["secrets/key"] contains path`. (`path contains` and `endsWith` read a part of
 * it, which gets no `./`.)
 */
const PATH_ON_LEFT = new Set(['==', '!=', 'in', 'startsWith']);
const PATH_ON_RIGHT = new Set(['==', '!=', 'contains']);

/**
 * The operand a `path` is compared with, in the spelling the value takes: `"secrets/"` is
 * `"./secrets/"`, as `secrets/x` and `./secrets/x` are both `./secrets/x`. Literals are read once;
 * a selector, an argument or a list's item is read when the call is decided, or a selector listing
 * `secrets/key` would never meet the path it names.
 */
function pathOperand(e: ExprIR, whole = false): Getter {
  if ('lit' in e) {
    const v = asPath(e.lit, whole);
    return () => v;
  }
  if ('list' in e) {
    const items = e.list.map((item) => pathOperand(item, whole));
    return (env) => items.map((g) => g(env));
  }
  const get = compileValue(e);
  return (env) => asPath(get(env), whole);
}

/**
 * A string, or each string of a list, read as a path argument is (lexicalPath); `whole`: as the
 * file it names, without a trailing `/`.
 */
function asPath(v: Value, whole: boolean): Value {
  const one = (x: string) => (whole ? withoutTrailingSlash(lexicalPath(x)) : lexicalPath(x));
  if (typeof v === 'string') return one(v);
  return Array.isArray(v) ? v.map((x: Value) => (typeof x === 'string' ? one(x) : x)) : v;
}

/** The path value, as the file it names when it is compared whole (`whole`). */
function fileOf(get: Getter, whole: boolean): Getter {
  if (!whole) return get;
  return (env) => {
    const v = get(env);
    return typeof v === 'string' ? withoutTrailingSlash(v) : v;
  };
}

/** The literals a `method` is compared with, in upper case as the value is (a regex is matched ignoring case). */
function methodLiterals(op: string, e: ExprIR): ExprIR {
  if (op === 'matches') return e;
  const one = (v: unknown) => (typeof v === 'string' ? v.toUpperCase() : v);
  if ('lit' in e) return { lit: (Array.isArray(e.lit) ? e.lit.map(one) : one(e.lit)) as typeof e.lit };
  if ('list' in e) return { list: e.list.map((item) => methodLiterals(op, item)) };
  return e;
}

/**
 * The literals a `host` value is compared with, in the form the value takes (compileVariable): a
 * host written `Metadata.Google.Internal.` is the host it names. Only ever the same host: a literal
 * with a port, a path or userinfo (which check refuses) is kept as written, never widened.
 */
function hostLiterals(op: string, e: ExprIR): ExprIR {
  type Scalar = string | number | boolean | null;
  const one = (v: Scalar): Scalar => {
    if (typeof v !== 'string') return v;
    // A regular expression is no host name: read as one, `"10.0"` would become `"10.0.0.0"`. Only
    // its non-ASCII labels are IDNA-encoded, as the value's are (its case is ignored when matching).
    if (op === 'matches') return idnaLabels(v);
    if (op === 'startsWith' || op === 'endsWith' || op === 'contains') {
      // A part of a host name: lower case and IDNA as the value, and a suffix without the root's dot.
      const ascii = hostPart(v);
      return op === 'endsWith' && ascii.endsWith('.') ? ascii.slice(0, -1) : ascii;
    }
    if (isIPv6(v)) return normaliseHost(`[${v}]`);
    if (/[/@]/.test(v) || /:\d*$/.test(v.replace(/^\[[^\]]*\]/, ''))) return v;
    return normaliseHost(v) || v;
  };
  if ('lit' in e) return { lit: Array.isArray(e.lit) ? e.lit.map(one) : one(e.lit) };
  if ('list' in e) return { list: e.list.map((item) => hostLiterals(op, item)) };
  return e;
}

/**
 * A fragment of a host name in the form host values take: lower case, each label that needs it
 * IDNA-encoded. Never read as a whole host: the URL parser reads `"10."` or `"192.168."` as IPv4
 * addresses (`0.0.0.10`, `192.0.0.168`), and a prefix rewritten so would never match.
 */
function hostPart(v: string): string {
  return idnaLabels(v.toLowerCase());
}

/**
 * Each run of label characters with non-ASCII ones IDNA-encoded (`bücher` → `xn--bcher-kva`); the rest
 * as written. Runs, not the text between dots: in a regex, `bücher\\.example` or `^bücher$` hold
 * characters no label has, and a label read with them is no longer the label.
 */
function idnaLabels(v: string): string {
  if (!/[^\x00-\x7f]/.test(v)) return v;
  return v.replace(/(?<!\\)[\p{L}\p{M}\p{N}-]*[^\x00-\x7f][\p{L}\p{M}\p{N}-]*/gu, (run) => domainToASCII(`${run}.x`).slice(0, -2) || run);
}

let regexEngine: typeof RE2JS | undefined;

/**
 * RE2 is loaded with the first policy that holds a regex: most hold none, and compiling its quarter
 * megabyte cost every daemon start some 15 ms. It is loaded outside the `try` below, so a failure to
 * load it fails the policy's preparation instead of leaving every regex condition unknown.
 */
function re2(): typeof RE2JS {
  return (regexEngine ??= (createRequire(import.meta.url)('re2js') as { RE2JS: typeof RE2JS }).RE2JS);
}

function compileRegex(pattern: string, caseInsensitive: boolean): RE2JS | undefined {
  const engine = re2();
  try {
    return engine.compile(pattern, caseInsensitive ? engine.CASE_INSENSITIVE : 0);
  } catch {
    return undefined; // rejected at check time; unknown here, never a throw
  }
}

export function compileValue(expr: ExprIR): Getter {
  if ('lit' in expr) {
    const v = expr.lit;
    return () => v;
  }
  if ('list' in expr) {
    const items = expr.list.map(compileValue);
    return (env) => items.map((g) => g(env));
  }
  if ('var' in expr) return compileVariable(expr.var);
  if ('selector' in expr) {
    const { selector, path } = expr;
    return (env) => {
      const v = env.selector(selector);
      return v === MISSING ? MISSING : getPath(v, path);
    };
  }
  // A logical expression used as a value: its truth, or missing when unknown.
  const p = compileCondition(expr);
  return (env) => p(env) ?? MISSING;
}

/** Resolve a request variable. One-segment request names fall back to the argument of that name. */
function compileVariable(path: readonly string[]): Getter {
  const [root, ...rest] = path as [string, ...string[]];
  const argFallback = (primary: (env: EvalEnv) => unknown): Getter => {
    return (env) => {
      const v = primary(env);
      return v === undefined || v === MISSING ? getPath(env.request.args, path) : v;
    };
  };
  switch (root) {
    case 'args':
      return (env) => getPath(env.request.args ?? MISSING, rest);
    case 'tool':
      return (env) => env.tool;
    case 'agent':
      return (env) => env.request.agent_id;
    case 'action':
      return argFallback((env) => env.request.action);
    case 'model':
      return argFallback((env) => env.request.model);
    case 'host': {
      // Compared as egress compares it (lower case, IDNA, no trailing dot): `LOCALHOST.` is `localhost`.
      const raw = argFallback((env) => env.request.http?.host);
      return (env) => {
        const v = raw(env);
        return typeof v === 'string' ? normaliseHost(isIPv6(v) ? `[${v}]` : v) : v;
      };
    }
    case 'method': {
      // In upper case, as the `method` clause compares it: an SDK call's `args.method` may be `delete`.
      const raw = argFallback((env) => env.request.http?.method);
      return (env) => {
        const v = raw(env);
        return typeof v === 'string' ? v.toUpperCase() : v;
      };
    }
    case 'path':
      if (rest.length === 0)
        // A path argument resolved as the tool will reach it (`./a/../../x` is `../x`); the proxies resolve their own.
        return (env) => {
          const own = env.request.http?.path;
          if (own !== undefined) return own;
          const v = getPath(env.request.args ?? MISSING, path);
          if (typeof v !== 'string') return v;
          return ambiguousPath(v) ? MISSHAPEN : lexicalPath(v);
        };
      return (env) => getPath(env.request.args ?? MISSING, path);
    // `query` and `headers` are the proxied request's; a call that is not HTTP has neither, and reads
    // the argument of that name instead, as `host` and `path` do: `deny db/run if query contains
    // "DROP"` must not be a rule that no SDK or MCP call can ever meet.
    case 'query':
      return (env) => (env.request.http ? getPath(env.request.http.query ?? MISSING, rest) : getPath(env.request.args ?? MISSING, path));
    case 'headers': {
      const name = rest[0]?.toLowerCase();
      return (env) => {
        const headers: Value = env.request.http ? (env.request.http.headers ?? MISSING) : getPath(env.request.args ?? MISSING, ['headers']);
        if (name === undefined || headers === null || typeof headers !== 'object' || Array.isArray(headers)) return getPath(headers, rest);
        for (const k of Object.keys(headers))
          if (k.toLowerCase() === name) return getPath((headers as Record<string, unknown>)[k], rest, 1);
        return MISSING;
      };
    }
    case 'principal':
      return (env) => getPath(env.request.principal ?? MISSING, rest);
    case 'time':
      return (env) => env.time(rest[0] ?? '');
    case 'session':
      return (env) => getPath(env.session(), rest);
    case 'delegation':
      return (env) => getPath(env.delegation(), rest);
    case 'cost':
      return (env) => env.request.cost_usd ?? MISSING;
    // Only what the caller's code sent: an argument named tags never stands in for them.
    case 'tags':
      return (env) => env.request.tags ?? MISSING;
    default:
      return (env) => getPath(env.request.args ?? MISSING, path);
  }
}

type Kind = 'missing' | 'misshapen' | 'null' | 'number' | 'string' | 'boolean' | 'list' | 'object';

function kindOf(v: Value): Kind {
  if (v === MISSING || v === undefined) return 'missing';
  if (v === MISSHAPEN) return 'misshapen';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'list';
  const t = typeof v;
  return t === 'number' || t === 'string' || t === 'boolean' ? t : 'object';
}

/** `nil` equals a missing field; otherwise a missing field or mismatched types are unknown. */
export function equals(a: Value, b: Value): Truth {
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka === 'misshapen' || kb === 'misshapen') return undefined;
  if (ka === 'missing' || kb === 'missing') {
    const other = ka === 'missing' ? kb : ka;
    return other === 'missing' || other === 'null' ? true : undefined;
  }
  if (ka === 'null' || kb === 'null') return ka === kb;
  if (ka !== kb) return undefined;
  if (ka === 'list') {
    const x = a as Value[];
    const y = b as Value[];
    if (x.length !== y.length) return false;
    let result: Truth = true;
    for (let i = 0; i < x.length && result !== false; i++) result = and(result, equals(x[i], y[i]));
    return result;
  }
  if (ka === 'object') return undefined;
  return a === b;
}

function order(a: Value, b: Value, test: (c: number) => boolean): Truth {
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) || Number.isNaN(b) ? undefined : test(a - b);
  if (typeof a === 'string' && typeof b === 'string') return test(a < b ? -1 : a > b ? 1 : 0);
  return undefined;
}

/** `x in list`: true if an element equals x; unknown if no element matched and some could not be compared. */
function member(list: Value, x: Value): Truth {
  if (!Array.isArray(list) || kindOf(x) === 'missing') return undefined;
  let result: Truth = false;
  for (const item of list) {
    const e = equals(item, x);
    if (e === true) return true;
    if (e === undefined) result = undefined;
  }
  return result;
}

function contains(container: Value, x: Value): Truth {
  if (Array.isArray(container)) return member(container, x);
  if (typeof container === 'string' && typeof x === 'string') return container.includes(x);
  return undefined;
}

function strings(a: Value, b: Value, test: (a: string, b: string) => boolean): Truth {
  return typeof a === 'string' && typeof b === 'string' ? test(a, b) : undefined;
}
