/**
 * Compacting the daemon's log (`faramesh audit compact`, `runtime { wal_retention }`): sealed
 * segments older than the cut move to an archive file (the audit package's `AuditLog.compact`).
 * The daemon adds what only it knows:
 * - records a sink has yet to ship stay live (each sink resumes from its position in the live log),
 *   and so does the record the state snapshot ends at;
 * - the compacted log's base carries a fresh state snapshot: budgets, rate limits and sessions can
 *   no longer be replayed from the first record, so a restart that finds `engine-state.json` gone
 *   starts from that one.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditLog, CompactResult } from '@faramesh/audit';
import { STATE_SNAPSHOT_FILE } from './state-snapshot.js';
import type { ShippedPositions } from '../outbound/sinks.js';

/** How often `wal_retention` is applied (and once as soon as the daemon is READY). */
export const RETENTION_EVERY_MS = 60 * 60 * 1000;

export interface CompactRequest {
  log: AuditLog;
  /** Takes a state snapshot, and says what the last one written covers. */
  snapshots: { take(nowMs: number): Promise<void>; readonly covered: number };
  stateDir: string;
  sinks?: ShippedPositions;
  /** Segments whose every record is older than this many ms are compacted. */
  olderThanMs: number;
  nowMs: number;
  archiveDir: string;
  by: string;
}

export async function compactLog(r: CompactRequest): Promise<CompactResult & { archive_dir: string; held_by?: string[] }> {
  // Taken now, so the base carries the state as it is (and the snapshot's own record stays live).
  await r.snapshots.take(r.nowMs);
  const carry = readFileSync(join(r.stateDir, STATE_SNAPSHOT_FILE), 'utf8');
  const keep = Math.max(0, Math.min(r.snapshots.covered - 1, r.sinks?.lastShipped() ?? Infinity));
  const result = await r.log.compact({
    before: r.nowMs - r.olderThanMs,
    maxSeq: keep,
    archiveDir: r.archiveDir,
    carry,
    by: r.by,
  });
  // Old segments kept live for a sink that has not shipped them: say which (else the state snapshot's record).
  const heldBy = result.held !== undefined ? (r.sinks?.shippedOnlyTo(result.held) ?? []) : [];
  return { ...result, archive_dir: r.archiveDir, ...(heldBy.length > 0 ? { held_by: heldBy } : {}) };
}
