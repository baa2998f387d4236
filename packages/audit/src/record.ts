/**
 * Decision Provenance Records (`dpr/2.0`, concepts/auditing.md). A record holds the hash of the
 * redacted arguments, never argument values. Its canonical bytes are RFC 8785 JSON: what the Merkle
 * leaf and the per-agent `prev_hash` chain are computed over.
 */
import { hash } from 'node:crypto';
import { canonicalJson, type StructuredDenial } from '@faramesh/protocol';
import { leafHashHex } from './merkle.js';
import type { Sequenced } from './events.js';

export const DPR_VERSION = 'dpr/2.0';

export interface DecisionRecord extends Sequenced {
  type: 'decision';
  schema: typeof DPR_VERSION;
  /** ULID; the SDK sees it as `action-<id>`. */
  id: string;
  time: string;
  agent_id: string;
  agent_svid?: string;
  /** When the SVID the agent was attested by expires (a SPIFFE identity provider). */
  agent_svid_expiry?: string;
  /** SHA-256 (hex) of the canonical claims of the verified principal the call was decided for (`principal.*`). */
  principal_claims_hash?: string;
  tool: string;
  action_type: 'tool_call' | 'delegate' | 'completion_event' | 'model_call';
  /** SHA-256 (hex) of the canonical redacted argument tree. */
  args_hash: string;
  effect: 'permit' | 'defer' | 'deny';
  code?: string;
  rule_ref?: string;
  rule_digest?: string;
  policy_version: string;
  denial?: StructuredDenial;
  credential_ref?: { provider: string; path_hash: string; scope: string[]; issued_at: string; ttl_s: number; issuance_id: string };
  cost?: { usd?: number; input_tokens?: number; output_tokens?: number };
  latency_ms?: Record<string, number>;
  delegation_chain?: string[];
  /** The caller's session (`session_id`): what session budgets and bounds count by. */
  session_id?: string;
  /** The caller's correlation id (`request_id`): every call of one task or run shares it (`audit trace`, `explain run`). */
  request_id?: string;
  /** The operator approval this call ran under (single use): its id, who, why, when. */
  approval?: { id?: string; approved_by: string; reason?: string; at: string };
  /** `runtime { mode = "audit" }`: the agent was permitted whatever `effect` says enforcement would have done. */
  mode?: 'audit';
  /** Stub providers signed or served this run. */
  dev?: true;
}

export const GENESIS_HASH = '0'.repeat(64);

/** The hash the record stores instead of argument values (one-shot: a Hash object costs more than the hashing). */
export function argsHash(redactedArgs: unknown): string {
  return hash('sha256', canonicalJson(redactedArgs ?? {}), 'hex');
}

export function recordBytes(record: DecisionRecord): Buffer {
  return Buffer.from(canonicalJson(record), 'utf8');
}

/** What the agent's next record carries as `prev_hash`: its Merkle leaf hash, H(0x00 ‖ canonical bytes). */
export function recordHash(record: DecisionRecord | Record<string, unknown>): string {
  return leafHashHex(Buffer.from(canonicalJson(record), 'utf8'));
}

export const actionId = (id: string): string => `action-${id}`;
