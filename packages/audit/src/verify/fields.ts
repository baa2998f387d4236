/**
 * The shape of every record type, field by field, so the verifier can say which field of a record
 * is wrong and why. Unknown fields are refused: a record never carries argument values or anything
 * else the schema does not name.
 */
import { DENIAL_CODES } from '@faramesh/protocol';
import { parseVerifierKey } from '../keys.js';

export interface FieldProblem {
  field: string;
  reason: string;
}

type Check = (v: unknown) => string | undefined;

const HEX64 = /^[0-9a-f]{64}$/;
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const str: Check = (v) => (typeof v === 'string' && v.length > 0 ? undefined : 'must be a non-empty string');
const hex64: Check = (v) => (typeof v === 'string' && HEX64.test(v) ? undefined : 'must be 64 lowercase hex digits (SHA-256)');
const count: Check = (v) => (Number.isSafeInteger(v) && (v as number) >= 0 ? undefined : 'must be a non-negative integer');
const nonNegative: Check = (v) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? undefined : 'must be a non-negative number');
const time: Check = (v) =>
  typeof v === 'string' && RFC3339.test(v) && !Number.isNaN(Date.parse(v)) ? undefined : 'must be an RFC 3339 time';
const oneOf = (...values: readonly string[]): Check => {
  const allowed = new Set(values);
  return (v) => (typeof v === 'string' && allowed.has(v) ? undefined : `must be one of ${values.join(', ')}`);
};
/** An identifier a caller chose (a session or correlation id): as long as the agent protocol allows. */
const ident: Check = (v) =>
  typeof v === 'string' && v.length > 0 && v.length <= 256 ? undefined : 'must be a string of 1 to 256 characters';
const strings: Check = (v) => (Array.isArray(v) && v.every((s) => typeof s === 'string') ? undefined : 'must be a list of strings');
const object: Check = (v) => (isObject(v) ? undefined : 'must be an object');
const numbers: Check = (v) => {
  if (!isObject(v)) return 'must map names to non-negative numbers';
  for (const k in v) if (nonNegative(v[k]) !== undefined) return 'must map names to non-negative numbers';
  return undefined;
};
const vkey: Check = (v) => {
  try {
    parseVerifierKey(String(v));
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
};
/**
 * An object with exactly these (optional unless listed in `required`) fields. Fields are looked up
 * in a Map: a record may name any key, `__proto__` and `constructor` included.
 */
const shape = (fields: Record<string, Check>, required: readonly string[] = []): Check => {
  const known = new Map(Object.entries(fields));
  return (v) => {
    if (!isObject(v)) return 'must be an object';
    for (const k of required) if (!Object.hasOwn(v, k)) return `lacks '${k}'`;
    for (const k of Object.keys(v)) {
      const check = known.get(k);
      const why = check ? check(v[k]) : 'is not a known field';
      if (why) return `'${k}' ${why}`;
    }
    return undefined;
  };
};

interface Schema {
  required: readonly string[];
  fields: Map<string, { check: Check; required: boolean }>;
}

const COMMON: Record<string, Check> = {
  type: str,
  id: (v) => (typeof v === 'string' && ULID.test(v) ? undefined : 'must be a ULID'),
  time,
  seq: count,
  lamport_seq: count,
  prev_hash: hex64,
  agent_id: str,
  dev: (v) => (v === true ? undefined : 'is only ever true'),
};
const SEQUENCED = ['type', 'id', 'time', 'seq', 'lamport_seq', 'prev_hash'];

/**
 * The check, remembering the last string it accepted: consecutive records repeat most values
 * (the policy version, the time of a busy millisecond, an agent's id), and comparing two strings
 * costs less than matching a pattern or parsing a time again. Strings are immutable, so a value
 * once accepted stays acceptable.
 */
const remembering = (check: Check): Check => {
  let last: string | undefined;
  return (v) => {
    if (typeof v === 'string' && v === last) return undefined;
    const why = check(v);
    if (why === undefined && typeof v === 'string') last = v;
    return why;
  };
};

const schema = (required: readonly string[], fields: Record<string, Check>): Schema => {
  const all = [...SEQUENCED, ...required];
  const checks = Object.entries({ ...COMMON, ...fields }).map(
    ([k, check]) => [k, { check: remembering(check), required: all.includes(k) }] as const,
  );
  return { required: all, fields: new Map(checks) };
};

const SCHEMAS = new Map<string, Schema>(
  Object.entries({
    decision: schema(['schema', 'agent_id', 'tool', 'action_type', 'args_hash', 'effect', 'policy_version'], {
      schema: oneOf('dpr/2.0'),
      agent_svid: str,
      agent_svid_expiry: time,
      principal_claims_hash: hex64,
      tool: str,
      action_type: oneOf('tool_call', 'delegate', 'completion_event', 'model_call'),
      args_hash: hex64,
      effect: oneOf('permit', 'defer', 'deny'),
      code: oneOf(...DENIAL_CODES),
      rule_ref: str,
      rule_digest: str,
      policy_version: hex64,
      denial: shape(
        {
          code: oneOf(...DENIAL_CODES),
          human_message: (v) => (typeof v === 'string' ? undefined : 'must be a string'),
          resolution: object,
          rule_ref: str,
          budget_id: str,
          provider: str,
        },
        ['code', 'human_message', 'resolution'],
      ),
      credential_ref: shape({ provider: str, path_hash: hex64, scope: strings, issued_at: time, ttl_s: nonNegative, issuance_id: str }, [
        'provider',
        'path_hash',
        'scope',
        'issued_at',
        'ttl_s',
        'issuance_id',
      ]),
      cost: shape({ usd: nonNegative, input_tokens: count, output_tokens: count }),
      latency_ms: numbers,
      delegation_chain: strings,
      session_id: ident,
      request_id: ident,
      approval: shape({ id: str, approved_by: str, reason: (v) => (typeof v === 'string' ? undefined : 'must be a string'), at: time }, [
        'approved_by',
        'at',
      ]),
      mode: oneOf('audit'),
    }),
    policy_applied: schema(['policy_version', 'source_hash'], { policy_version: hex64, source_hash: hex64, by: str, phases_since: time }),
    agent_quiesced: schema(['agent_id', 'by'], { agent_id: str, by: str, reason: str }),
    agent_resumed: schema(['agent_id', 'by'], { agent_id: str, by: str, reason: str }),
    daemon_started: schema(['pid', 'version'], { pid: count, version: str }),
    daemon_stopped: schema(['reason'], { reason: str }),
    approval_resolved: schema(['action_id', 'approval_id', 'outcome', 'by'], {
      action_id: str,
      approval_id: str,
      outcome: oneOf('approved', 'denied', 'expired'),
      by: str,
      reason: (v) => (typeof v === 'string' ? undefined : 'must be a string'),
    }),
    state_delta: schema(['delta'], { delta: object, by: str }),
    state_sealed: schema(['file', 'generation'], { file: str, generation: count, body_sha256: hex64 }),
    key_rotated: schema(['key'], { key: vkey, previous_key: vkey }),
    mcp_traffic: schema(['agent_id', 'server', 'method', 'from'], {
      agent_id: str,
      server: str,
      method: str,
      from: oneOf('client', 'server'),
      code: oneOf('RUNTIME_GAP'),
    }),
    mcp_task: schema(['agent_id', 'server', 'task_id', 'tool', 'status'], {
      agent_id: str,
      server: str,
      task_id: str,
      tool: str,
      status: oneOf('working', 'completed', 'failed', 'cancelled', 'expired', 'abandoned'),
      action_id: str,
      code: oneOf('RUNTIME_GAP'),
    }),
    log_compacted: schema(['size', 'first_seq', 'base_sha256', 'archive', 'archive_sha256'], {
      size: count,
      first_seq: count,
      base_sha256: hex64,
      archive: str,
      archive_sha256: hex64,
      by: str,
    }),
    checkpoint: schema(['size', 'note', 'key'], { size: count, note: str, key: vkey }),
  }),
);

/** Every way `record` departs from its type's schema (empty when it conforms). */
export function checkFields(record: Record<string, unknown>): FieldProblem[] {
  const s = typeof record.type === 'string' ? SCHEMAS.get(record.type) : undefined;
  if (!s) return [{ field: 'type', reason: `'${String(record.type)}' is not a record type` }];
  let problems: FieldProblem[] | undefined;
  let required = 0;
  for (const field in record) {
    const known = s.fields.get(field);
    if (known?.required) required++;
    const why = known ? known.check(record[field]) : 'is not a field of this record type (records hold no argument values or extras)';
    if (why) (problems ??= []).push({ field, reason: why });
  }
  if (required === s.required.length) return problems ?? [];
  // Missing fields come first, in the schema's order.
  const missing = s.required.filter((field) => !Object.hasOwn(record, field)).map((field) => ({ field, reason: 'is missing' }));
  return problems ? [...missing, ...problems] : missing;
}
