/** Shared test helpers: temp directories and records to append. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { argsHash, scanFrames, type RecordInput } from '../src/index.js';

export const tmp = () => mkdtempSync(join(tmpdir(), 'faramesh-wal-'));

/** A small record on `agent`'s chain. */
export const delta = (agent: string, i: number, extra: Record<string, unknown> = {}): RecordInput => ({
  type: 'state_delta',
  agent_id: agent,
  delta: { i, ...extra },
});

export const POLICY = 'ab'.repeat(32);

/** A decision with every field of dpr/2.0 filled in. */
export const decision = (agent: string, i: number, over: Partial<Extract<RecordInput, { type: 'decision' }>> = {}): RecordInput => ({
  type: 'decision',
  schema: 'dpr/2.0',
  agent_id: agent,
  agent_svid: `spiffe://corp.example/${agent}`,
  tool: 'stripe/refund',
  action_type: 'tool_call',
  args_hash: argsHash({ amount: i }),
  effect: 'deny',
  code: 'POLICY_DENY',
  rule_ref: 'governance.fms:14',
  rule_digest: 'cd'.repeat(32),
  policy_version: POLICY,
  denial: { code: 'POLICY_DENY', human_message: 'over the limit', resolution: { type: 'rule_block', rule_id: 'governance.fms:14' } },
  credential_ref: {
    provider: 'vault',
    path_hash: 'ef'.repeat(32),
    scope: ['refund'],
    issued_at: '2026-11-22T05:00:00Z',
    ttl_s: 30,
    issuance_id: 'iss-1',
  },
  cost: { usd: 0.01, input_tokens: 10, output_tokens: 5 },
  latency_ms: { policy: 0.01, credential: 1.5 },
  delegation_chain: ['action-01JD3Z5Q8X9K2M4N6P7R8S9T0V'],
  session_id: 'thread-7',
  request_id: 'task-42',
  approval: { approved_by: 'alice', reason: 'ok', at: '2026-11-22T05:00:00Z' },
  ...over,
});

export const policyApplied = (version = POLICY): RecordInput => ({
  type: 'policy_applied',
  policy_version: version,
  source_hash: '12'.repeat(32),
});

/** Where a segment's records end (preallocated zeros may follow). */
export function recordsEnd(segment: string): number {
  const scan = scanFrames(readFileSync(segment));
  if (!scan.ok) throw new Error(`${segment}: ${scan.reason}`);
  return scan.end;
}

/** A write a crash cut short: `bytes` where the next record would have gone. */
export function tearTail(segment: string, bytes: number[]): number {
  const file = readFileSync(segment);
  const at = recordsEnd(segment);
  const torn = Buffer.concat([file.subarray(0, at), Buffer.from(bytes)]);
  writeFileSync(segment, file.length > torn.length ? Buffer.concat([torn, file.subarray(torn.length)]) : torn);
  return at;
}
