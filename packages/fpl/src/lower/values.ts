import type { EnvCall, ValueNode } from '../syntax/ast.js';
import { didYouMean } from '../syntax/suggest.js';
import type { IRValue } from '../ir.js';
import type { FieldSpec } from '../schema.js';
import type { LowerContext } from './context.js';

const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$/;
const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** The longest duration a policy may write: 100 years, in seconds. */
export const MAX_DURATION_S = 100 * 365 * 86400;

/** `"1h30m"` → 5400. Undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION.test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)) total += Number(m[1]) * UNIT_SECONDS[m[2]!]!;
  const seconds = Math.round(total * 1000) / 1000;
  // `"999…9w"` overflows to Infinity, which no compiled policy (JSON) can hold: not a duration.
  return Number.isFinite(seconds) ? seconds : undefined;
}

function describe(v: ValueNode): string {
  switch (v.kind) {
    case 'String':
      return `string "${v.value.length > 30 ? v.value.slice(0, 27) + '…' : v.value}"`;
    case 'Number':
    case 'Money':
      return `number ${v.raw}`;
    case 'Bool':
      return `${v.value}`;
    case 'Nil':
      return 'nil';
    case 'Word':
      return `'${v.value}'`;
    case 'List':
      return 'a list';
    case 'Map':
      return 'a map';
    case 'Env':
      return `env("${v.name.value}")`;
  }
}

/**
 * Convert a field's value to IR, checking it against its spec. Reports and returns undefined on a
 * type error. `env()` stays an `{ $env }` reference except where a literal is needed.
 */
export function lowerField(ctx: LowerContext, name: string, spec: FieldSpec, v: ValueNode, envAnywhere = false): IRValue | undefined {
  if (v.kind === 'Env') {
    if (spec.literal) {
      ctx.error(v.span, 'invalid-value', `'${name}' must be written in the policy: env() is not accepted for it`);
      return undefined;
    }
    if (envAnywhere || spec.kind === 'string' || spec.kind === 'url' || spec.kind === 'any') return envRef(ctx, v);
    ctx.error(v.span, 'invalid-value', `'${name}' must be written in the policy: env() is only for strings and runtime settings`);
    return undefined;
  }
  const bad = (expected: string, hint?: string): undefined => {
    ctx.error(v.span, 'invalid-value', `'${name}' expects ${expected}, got ${describe(v)}`, hint);
    return undefined;
  };
  const text = v.kind === 'String' || v.kind === 'Word' ? v.value : undefined;
  switch (spec.kind) {
    case 'string':
      return text !== undefined ? text : bad('a string');
    case 'url':
      if (text === undefined) return bad('a URL string');
      if (!/^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(text)) return bad('a URL such as "https://host/path"');
      return text;
    case 'bool':
      return v.kind === 'Bool' ? v.value : bad('true or false');
    case 'number':
    case 'money':
      if (v.kind !== 'Number' && v.kind !== 'Money') return bad(spec.kind === 'money' ? 'an amount such as $500' : 'a number');
      if (!Number.isFinite(v.value)) return bad('a finite number');
      if (v.value < 0) return bad('a non-negative amount');
      return v.value;
    case 'integer':
      if (v.kind !== 'Number' || !Number.isInteger(v.value) || v.value < 0) return bad('a whole number');
      return v.value;
    case 'port':
      if (v.kind !== 'Number' || !Number.isInteger(v.value) || v.value < 1 || v.value > 65535) return bad('a port number (1–65535)');
      return v.value;
    case 'fraction':
      if (v.kind !== 'Number' || v.value < 0 || v.value > 1) return bad('a fraction between 0 and 1', 'warn_at 0.8 warns at 80%');
      return v.value;
    case 'duration': {
      const seconds = text === undefined ? undefined : parseDuration(text);
      if (seconds === undefined) return bad('a duration such as "30s", "5m", "24h" or "7d"');
      // Longer ones overflow the dates the daemon computes from them (an approval's expiry).
      if (seconds > MAX_DURATION_S) return bad('a duration of at most 100 years (36500d)');
      return seconds;
    }
    case 'effect':
    case 'enum': {
      const values = spec.kind === 'effect' ? ['permit', 'defer', 'deny'] : spec.values!;
      // The upstream dialect's effect words: `default allow` is `default permit`.
      if (spec.kind === 'effect' && text !== undefined && Object.hasOwn(EFFECT_ALIASES, text)) return EFFECT_ALIASES[text]!;
      if (text === undefined || !values.includes(text)) {
        return bad(`one of ${values.join(', ')}`, text === undefined ? undefined : didYouMean(text, values));
      }
      return text;
    }
    case 'string-list':
      return stringList(ctx, name, v);
    case 'string-or-list':
      return text !== undefined ? [text] : stringList(ctx, name, v);
    case 'string-map':
      return stringMap(ctx, name, spec, v);
    case 'any':
      return anyValue(ctx, v);
  }
}

const EFFECT_ALIASES: Record<string, string> = { allow: 'permit', approve: 'permit', block: 'deny', reject: 'deny' };

function stringList(ctx: LowerContext, name: string, v: ValueNode): string[] | undefined {
  if (v.kind !== 'List') {
    ctx.error(v.span, 'invalid-value', `'${name}' expects a list of strings, got ${describe(v)}`, `write ${name} = ["…", "…"]`);
    return undefined;
  }
  const out: string[] = [];
  for (const item of v.items) {
    if (item.kind !== 'String' && item.kind !== 'Word') {
      ctx.error(item.span, 'invalid-value', `'${name}' expects a list of strings, got ${describe(item)} in it`);
      return undefined;
    }
    out.push(item.value);
  }
  return out;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** An HTTP field name: an RFC 9110 token. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** `METHOD /path/{param}`: a method (or `*`), then an absolute path whose segments are literal or one `{name}`. */
const ROUTE =
  /^(?:GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS|\*) \/(?:(?:[A-Za-z0-9._~!$&'()*+,;=:@%-]+|\{[A-Za-z_][A-Za-z0-9_.-]*\})(?:\/|$))*$/;

const KEY_RULES = {
  'env-name': {
    test: (k: string) => ENV_NAME.test(k),
    what: 'an environment variable name',
    hint: 'use letters, digits and _, not starting with a digit',
  },
  'header-name': {
    test: (k: string) => HEADER_NAME.test(k),
    what: 'an HTTP header name',
    hint: 'header names are letters, digits and -, e.g. Authorization or X-Api-Key',
  },
  route: {
    test: (k: string) => ROUTE.test(k),
    what: 'a route',
    hint: 'write "METHOD /path/{param}", e.g. "POST /orders/{id}/refund" (the method upper case, or *)',
  },
} as const;

/**
 * `{ KEY = "value", OTHER = env("X") }`: every value a string or an env reference (kept unresolved),
 * every key a valid environment variable or header name (or route), no key twice (header names ignore
 * case). A route's value is a tool id, written in the policy.
 */
function stringMap(ctx: LowerContext, name: string, spec: FieldSpec, v: ValueNode): { [key: string]: IRValue } | undefined {
  if (v.kind !== 'Map') {
    ctx.error(v.span, 'invalid-value', `'${name}' expects a map of strings, got ${describe(v)}`, `write ${name} = { KEY = "value" }`);
    return undefined;
  }
  const headers = spec.keys === 'header-name';
  const keys = KEY_RULES[spec.keys ?? 'env-name'];
  const entries: [string, IRValue][] = [];
  const seen = new Map<string, number>();
  let ok = true;
  for (const e of v.entries) {
    const fold = headers ? e.name.toLowerCase() : e.name;
    const first = seen.get(fold);
    if (first !== undefined) {
      ctx.error(e.nameSpan, 'duplicate-field', `'${name}' sets '${e.name}' twice (first at line ${ctx.source.lineOf(first)})`);
      ok = false;
      continue;
    }
    seen.set(fold, e.nameSpan.start);
    if (!keys.test(e.name)) {
      ctx.error(e.nameSpan, 'invalid-value', `'${name}': '${e.name}' is not ${keys.what}`, keys.hint);
      ok = false;
      continue;
    }
    const value = e.value;
    if (value.kind === 'Env' && spec.keys !== 'route') {
      entries.push([e.name, envRef(ctx, value)]);
      continue;
    }
    if (value.kind !== 'String' && value.kind !== 'Word') {
      ctx.error(
        value.span,
        'invalid-value',
        `'${name}': the value of '${e.name}' must be a string${spec.keys === 'route' ? ' (a tool id)' : ' or env("NAME")'}, got ${describe(value)}`,
        value.kind === 'Number' || value.kind === 'Bool' ? `quote it: ${e.name} = "${valueSpelling(value)}"` : undefined,
      );
      ok = false;
      continue;
    }
    if (spec.keys === 'route' && !/^\S+$/.test(value.value)) {
      ctx.error(
        value.span,
        'invalid-value',
        `'${name}': '${e.name}' maps to '${value.value}', which is not a tool id (one word, no spaces)`,
      );
      ok = false;
      continue;
    }
    const bad = headers ? /[\u0000-\u0008\u000a-\u001f\u007f]/.test(value.value) : value.value.includes('\u0000');
    if (bad) {
      ctx.error(
        value.span,
        'invalid-value',
        headers
          ? `'${name}': the value of '${e.name}' contains a line break or control character`
          : `'${name}': the value of '${e.name}' contains a NUL character`,
      );
      ok = false;
      continue;
    }
    entries.push([e.name, value.value]);
  }
  // fromEntries defines own properties, so a key such as `__proto__` stays a plain key.
  return ok ? Object.fromEntries(entries) : undefined;
}

function valueSpelling(v: ValueNode): string {
  return v.kind === 'Number' ? v.raw : v.kind === 'Bool' ? String(v.value) : '';
}

/** Values of open fields (provider settings): kept as written. */
export function anyValue(ctx: LowerContext, v: ValueNode): IRValue {
  switch (v.kind) {
    case 'String':
    case 'Word':
      return v.value;
    case 'Number':
    case 'Money':
      if (!Number.isFinite(v.value)) {
        ctx.error(v.span, 'invalid-number', 'the number is too large');
        return null;
      }
      return v.value;
    case 'Bool':
      return v.value;
    case 'Nil':
      return null;
    case 'List':
      return v.items.map((item) => anyValue(ctx, item));
    case 'Map': {
      const out: { [key: string]: IRValue } = {};
      for (const e of v.entries) out[e.name] = anyValue(ctx, e.value);
      return out;
    }
    case 'Env':
      return envRef(ctx, v);
  }
}

function envRef(ctx: LowerContext, v: EnvCall): IRValue {
  const name = v.name.value;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    ctx.error(v.name.span, 'invalid-env', `'${name}' is not an environment variable name`);
  } else if (ctx.options.strictEnv && ctx.env(name) === undefined) {
    ctx.error(v.span, 'unset-env', `env("${name}") is unset`);
  }
  return { $env: name };
}
