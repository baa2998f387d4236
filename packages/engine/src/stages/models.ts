/**
 * Model names: how providers spell one model differently, and what a `model_policy` entry covers.
 */

/** A Bedrock model id's cross-region and vendor prefixes: `us.anthropic.`, `anthropic.`, `openai.`. */
const BEDROCK_PREFIX = /^(?:(?:us|eu|apac|jp|au|ca|us-gov|global)\.)?(?:anthropic|openai|google|meta|amazon|mistral)\./;

/**
 * The model's name as a provider's own API spells it: lower case; without a router's or API's
 * path (`anthropic/…`, `models/…`), a Bedrock prefix, or a Vertex `@version`; Anthropic version
 * dots as dashes (`claude-3.5-sonnet`, `claude-sonnet-4.5`, as routers write them).
 */
export function modelFamily(model: string): string {
  let name = model.trim().toLowerCase();
  name = name.slice(name.lastIndexOf('/') + 1);
  name = name.replace(BEDROCK_PREFIX, '');
  const at = name.indexOf('@');
  if (at >= 0) name = name.slice(0, at);
  if (name.startsWith('claude-')) name = name.replace(/(\d)\.(\d)/g, '$1-$2');
  return name;
}

/**
 * What may follow a model's name in one of its snapshots: a date (`20250514`, `2024-08-06`, OpenAI's
 * older `0613`), a stable version (Gemini's `002`), Anthropic's `-0` alias (`claude-opus-4-0`),
 * `latest`, a Bedrock `v1:0`. Never another digit alone: `claude-opus-4-1` is another model.
 */
const SNAPSHOT = /^(?:-(?:\d{8}|\d{4}-\d{2}-\d{2}|\d{3,4}|0|latest|v\d+(?::\d+)?))+$/;

/**
 * A variant tag after the name or its snapshot: a router's `:free`, `:thinking` or `:online`
 * (`anthropic/claude-opus-4:thinking` is claude-opus-4 served another way), a local runtime's
 * `:70b`. The entry without a tag covers them all, as a deny must; an entry with one names only it.
 */
const VARIANT = /^(?:-(?:\d{8}|\d{4}-\d{2}-\d{2}|\d{3,4}|0|latest|v\d+(?::\d+)?))*:[a-z0-9][a-z0-9._-]*$/;

/**
 * Does a `model_policy` entry cover the model? Both are compared as `modelFamily` spells them. An
 * entry names a model and its snapshots (`claude-sonnet-4` covers `claude-sonnet-4-20250514` and
 * `anthropic.claude-sonnet-4-20250514-v1:0`, not `claude-sonnet-4-5`); `*` matches any run of
 * characters (`claude-opus-*`). An entry with a `/` names a router's path (`openrouter/*`), and is
 * compared with the whole name, in lower case.
 */
export function modelMatches(entry: string, model: string): boolean {
  const routed = entry.includes('/');
  const want = routed ? entry.trim().toLowerCase() : modelFamily(entry);
  const name = routed ? model.trim().toLowerCase() : modelFamily(model);
  if (want.includes('*')) return wildcard(want, name) || coveredBeforeSuffix(want, name);
  if (name === want || !name.startsWith(want)) return name === want;
  const rest = name.slice(want.length);
  return SNAPSHOT.test(rest) || VARIANT.test(rest);
}

/**
 * A pattern with `*` covers snapshots and variants as a plain entry does: `claude-*-4` covers
 * `claude-opus-4-20250514` and `claude-opus-4:thinking`, the name before such a suffix matching it.
 * Real model names are short: past MAX_MODEL_SUFFIX_SCAN characters only the whole name is tried.
 */
function coveredBeforeSuffix(pattern: string, name: string): boolean {
  if (name.length > MAX_MODEL_SUFFIX_SCAN) return false;
  for (let k = 1; k < name.length; k++) {
    if (name[k] !== '-' && name[k] !== ':') continue;
    const rest = name.slice(k);
    if ((SNAPSHOT.test(rest) || VARIANT.test(rest)) && wildcard(pattern, name.slice(0, k))) return true;
  }
  return false;
}
const MAX_MODEL_SUFFIX_SCAN = 256;

/** `*` as any run of characters; linear backtracking to the last star, never exponential. */
function wildcard(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] !== '*' && pattern[p] === text[t]) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      resume = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++resume;
    } else return false;
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/** The models a call names (its own and its usage's) that the policy does not permit. */
export function refusedModel(
  policy: { allow: readonly string[]; deny: readonly string[] },
  models: readonly (string | undefined)[],
): string | undefined {
  for (const model of models) {
    if (model === undefined) continue;
    if (policy.allow.length > 0 && !policy.allow.some((e) => modelMatches(e, model))) return model;
    if (policy.deny.some((e) => modelMatches(e, model))) return model;
  }
  return undefined;
}
