/**
 * Policy fixtures (`tests/*.fmtest.json`, cli/test.md) and their validation. Beyond the
 * documented fields, a fixture or case may set `now` (RFC 3339), and a case `principal`,
 * `model`, `session`, `tags`, `http`, `cost_usd` and `usage`.
 */
import { parseRfc3339, unfaithfulJson, type DecisionRequest, type Effect } from '@faramesh/protocol';

/** A case is a request (less the agent, which the fixture names) with a name and an expectation. */
export type FixtureCase = Pick<DecisionRequest, 'tool' | 'args' | 'principal' | 'model' | 'tags' | 'http' | 'cost_usd' | 'usage'> & {
  name?: string;
  /** The session id (`session_id` in the request). */
  session?: string;
  now?: string;
  expect: { effect: Effect; code?: string; rule_ref?: string };
};

export interface Fixture {
  fixture?: string;
  agent_id: string;
  now?: string;
  cases: FixtureCase[];
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const EFFECTS = ['PERMIT', 'DEFER', 'DENY'];

/** Check a parsed fixture; returns the problems, each with its JSON path. */
export function fixtureProblems(data: unknown): string[] {
  const problems: string[] = [];
  if (!isObject(data)) return ['the fixture must be a JSON object'];
  unknownKeys(data, FIXTURE_KEYS, '', problems);
  if (typeof data.agent_id !== 'string' || data.agent_id === '') problems.push('agent_id: required, a string');
  if (data.now !== undefined && !validTime(data.now)) problems.push('now: must be an RFC 3339 time');
  if (!Array.isArray(data.cases) || data.cases.length === 0) return [...problems, 'cases: required, a non-empty list'];
  data.cases.forEach((c: unknown, i: number) => {
    const at = `cases[${i}]`;
    if (!isObject(c)) return problems.push(`${at}: must be an object`);
    unknownKeys(c, CASE_KEYS, `${at}.`, problems);
    if (typeof c.tool !== 'string' || c.tool === '') problems.push(`${at}.tool: required, a string`);
    // The channels refuse a `__proto__` key, a number that reads as Infinity and deep nesting before
    // deciding: decided here, the case would pass on a call no agent can make, and --update would
    // write it back as another call (Infinity as null).
    const unfaithful = unfaithfulJson(c, at);
    if (unfaithful) problems.push(unfaithful);
    if (c.name !== undefined && typeof c.name !== 'string') problems.push(`${at}.name: must be a string`);
    for (const k of ['args', 'principal', 'http', 'usage'] as const)
      if (c[k] !== undefined && !isObject(c[k])) problems.push(`${at}.${k}: must be an object`);
    for (const k of ['model', 'session'] as const)
      if (c[k] !== undefined && typeof c[k] !== 'string') problems.push(`${at}.${k}: must be a string`);
    if (c.tags !== undefined && !(Array.isArray(c.tags) && c.tags.every((t) => typeof t === 'string')))
      problems.push(`${at}.tags: must be a list of strings`);
    if (c.now !== undefined && !validTime(c.now)) problems.push(`${at}.now: must be an RFC 3339 time`);
    // As the daemon validates a call: one it would refuse must not be decided here as another call.
    if (c.cost_usd !== undefined && !(typeof c.cost_usd === 'number' && Number.isFinite(c.cost_usd) && c.cost_usd >= 0))
      problems.push(`${at}.cost_usd: must be a non-negative number`);
    if (isObject(c.usage)) {
      if (c.usage.model !== undefined && typeof c.usage.model !== 'string') problems.push(`${at}.usage.model: must be a string`);
      for (const k of ['input_tokens', 'output_tokens'] as const) {
        const n = c.usage[k];
        if (n !== undefined && !(Number.isInteger(n) && (n as number) >= 0))
          problems.push(`${at}.usage.${k}: must be a non-negative integer`);
      }
    }
    if (!isObject(c.expect) || !EFFECTS.includes(c.expect.effect as string))
      problems.push(`${at}.expect.effect: required, one of ${EFFECTS.join(', ')}`);
    else {
      unknownKeys(c.expect, EXPECT_KEYS, `${at}.expect.`, problems);
      if (c.expect.code !== undefined && typeof c.expect.code !== 'string') problems.push(`${at}.expect.code: must be a string`);
      if (c.expect.rule_ref !== undefined && typeof c.expect.rule_ref !== 'string')
        problems.push(`${at}.expect.rule_ref: must be a string`);
    }
    return undefined;
  });
  return problems;
}

// A misspelt key (`cod`, `principle`, `arg`) would be ignored, and the case would assert less than it
// says, or decide another call: every key is one the fixture format knows.
const FIXTURE_KEYS = ['fixture', 'agent_id', 'now', 'cases'];
const CASE_KEYS = ['name', 'tool', 'args', 'principal', 'model', 'session', 'tags', 'http', 'cost_usd', 'usage', 'now', 'expect'];
const EXPECT_KEYS = ['effect', 'code', 'rule_ref'];

function unknownKeys(o: Record<string, unknown>, known: readonly string[], at: string, problems: string[]): void {
  for (const k of Object.keys(o)) if (!known.includes(k)) problems.push(`${at}${k}: unknown field (expected one of ${known.join(', ')})`);
}

function validTime(v: unknown): boolean {
  return typeof v === 'string' && parseRfc3339(v) !== undefined;
}

export function requestOf(fixture: Fixture, c: FixtureCase): DecisionRequest {
  return {
    agent_id: fixture.agent_id,
    tool: c.tool,
    args: c.args ?? {},
    ...(c.principal ? { principal: c.principal } : {}),
    ...(c.model !== undefined ? { model: c.model } : {}),
    ...(c.session !== undefined ? { session_id: c.session } : {}),
    ...(c.tags ? { tags: c.tags } : {}),
    ...(c.http ? { http: c.http } : {}),
    ...(c.cost_usd !== undefined ? { cost_usd: c.cost_usd } : {}),
    ...(c.usage ? { usage: c.usage } : {}),
  };
}
