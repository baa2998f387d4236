/**
 * Everything the log holds besides decisions is a record too, chained and covered by the Merkle
 * tree like a decision: the stack's history (policy applied, daemon started and stopped, approvals,
 * state deltas the daemon rebuilds rate and budget state from, key rotations) and the signed
 * checkpoints themselves. Records without an `agent_id` chain under the stack.
 */
import type { DecisionRecord } from './record.js';

/** Assigned by the sequencer when a record is appended. */
export interface Sequenced {
  /** Global position in the log (the Merkle leaf index). */
  seq: number;
  /** Per-chain sequence: per agent, or the stack's chain for records without an agent. */
  lamport_seq: number;
  /** Leaf hash (hex) of the previous record in the same chain, or 64 zeros for the first. */
  prev_hash: string;
}

interface EventBase extends Sequenced {
  /** ULID. */
  id: string;
  /** RFC 3339. */
  time: string;
  agent_id?: string;
  /** Stub providers signed or served this run. */
  dev?: true;
}

export interface PolicyApplied extends EventBase {
  type: 'policy_applied';
  policy_version: string;
  /** SHA-256 (hex) of the policy source as applied. */
  source_hash: string;
  /** Who re-applied it, for a rollback. */
  by?: string;
  /** When its phases started, when earlier than this record: a policy whose phases did not change keeps their clock. */
  phases_since?: string;
}

/** An operator stopped (quiesced) or restarted (resumed) an agent's calls. */
export interface AgentStanding extends EventBase {
  type: 'agent_quiesced' | 'agent_resumed';
  agent_id: string;
  by: string;
  reason?: string;
}

export interface DaemonStarted extends EventBase {
  type: 'daemon_started';
  pid: number;
  version: string;
}

export interface DaemonStopped extends EventBase {
  type: 'daemon_stopped';
  reason: string;
}

export interface ApprovalResolved extends EventBase {
  type: 'approval_resolved';
  /** The deferred decision's id. */
  action_id: string;
  /** The approval resolved: the decision it permits (if approved) names it in `approval.id`. */
  approval_id: string;
  outcome: 'approved' | 'denied' | 'expired';
  by: string;
  reason?: string;
}

export interface StateDelta extends EventBase {
  type: 'state_delta';
  /** What changed in rate, budget or session state; the daemon's to interpret. */
  delta: Record<string, unknown>;
  /** The operator who said so, for a change an operator made (spawned children ended). */
  by?: string;
}

/**
 * The daemon replaced one of the state files whose every version the log records (approvals, HTTP
 * tokens, policy history), or started without one that had been removed. On start, a copy older than
 * the log's latest generation is refused: a backup put back cannot revive a spent approval or a
 * revoked token.
 */
export interface StateSealed extends EventBase {
  type: 'state_sealed';
  /** The file's name (`approvals.json`, `tokens.json`, `policy-history.json`). */
  file: string;
  /** One more than the file's previous generation. */
  generation: number;
  /** SHA-256 (hex) of the sealed content; absent when the daemon found the file removed and started without it. */
  body_sha256?: string;
}

export interface KeyRotated extends EventBase {
  type: 'key_rotated';
  /** The verifier key (C2SP vkey) that signed checkpoints before, if any. */
  previous_key?: string;
  /** The verifier key that signs checkpoints from here on. Informational: verify trusts pinned keys only. */
  key: string;
}

/** A request the MCP proxy passed through ungoverned (resources, prompts, sampling…), by its method. */
export interface McpTraffic extends EventBase {
  type: 'mcp_traffic';
  agent_id: string;
  /** The `mcp_server` it went to or came from. */
  server: string;
  method: string;
  /** Who sent it: the agent's client, or the upstream server. */
  from: 'client' | 'server';
  /** `RUNTIME_GAP`: a method the proxy does not know, forwarded as it is. */
  code?: 'RUNTIME_GAP';
}

/** An MCP task (long-running work a permitted `tools/call` started) changed state, as the proxy saw it. */
export interface McpTask extends EventBase {
  type: 'mcp_task';
  agent_id: string;
  server: string;
  /** The upstream's task id. */
  task_id: string;
  /** The policy tool id of the call that started it. */
  tool: string;
  status: 'working' | 'completed' | 'failed' | 'cancelled' | 'expired' | 'abandoned';
  /** The decision that permitted the call. */
  action_id?: string;
  /** `RUNTIME_GAP`: the task outlived its TTL, or its session, without reporting an end. */
  code?: 'RUNTIME_GAP';
}

export interface CheckpointRecord extends EventBase {
  type: 'checkpoint';
  /** The tree size the checkpoint signs (records before this one; appends continue while it is signed). */
  size: number;
  /** The C2SP signed note. */
  note: string;
  /** The signing key (vkey), informational. */
  key: string;
}

/**
 * Old sealed segments were moved to an archive file (`faramesh audit compact`, `runtime {
 * wal_retention }`): records 0 … size-1 are there, and the log directory keeps a base whose SHA-256
 * this names. Appended before the base is written, so the checkpoints after it sign the base.
 */
export interface LogCompacted extends EventBase {
  type: 'log_compacted';
  /** Records compacted in all (this compaction and earlier ones). */
  size: number;
  /** The first record this compaction archived. */
  first_seq: number;
  /** SHA-256 (hex) of the base file (`base.json`) written after this record. */
  base_sha256: string;
  /** The archive file this compaction wrote, and its SHA-256 (hex). */
  archive: string;
  archive_sha256: string;
  by?: string;
}

export type EventRecord =
  | PolicyApplied
  | AgentStanding
  | DaemonStarted
  | DaemonStopped
  | ApprovalResolved
  | StateDelta
  | StateSealed
  | KeyRotated
  | McpTraffic
  | McpTask
  | LogCompacted
  | CheckpointRecord;
export type LogRecord = DecisionRecord | EventRecord;
export type RecordType = LogRecord['type'];

type Unsequenced<T> = T extends unknown ? Omit<T, keyof Sequenced | 'id' | 'time'> & { id?: string; time?: string } : never;
/** What callers append: the sequencer adds `seq`, `lamport_seq`, `prev_hash`, and `id`/`time` when absent. */
export type RecordInput = Unsequenced<LogRecord>;

export const RECORD_TYPES: readonly RecordType[] = [
  'decision',
  'policy_applied',
  'agent_quiesced',
  'agent_resumed',
  'daemon_started',
  'daemon_stopped',
  'approval_resolved',
  'state_delta',
  'state_sealed',
  'key_rotated',
  'mcp_traffic',
  'mcp_task',
  'log_compacted',
  'checkpoint',
];
