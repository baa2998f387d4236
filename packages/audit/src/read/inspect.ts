/**
 * A diagnostic look at a log directory's files (`faramesh audit wal inspect`), without reading every
 * record: sealed segments from their manifests, the active segment by reading it, the snapshot, the
 * writer's lock, the last record, and the latest checkpoint (searched from the newest segment back).
 * It checks nothing beyond what it must read; `audit verify` is the check.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { liveSegments } from '../log/base.js';
import { firstSeqOf, lockHolder } from '../log/files.js';
import { readManifest, WAL_FORMAT } from '../log/manifest.js';
import { readSnapshot } from '../log/snapshot.js';
import { LogFollower, type StoredRecord } from './follower.js';

export interface SegmentInfo {
  name: string;
  state: 'sealed' | 'active';
  first_seq: number;
  /** Records in it (a sealed segment's manifest says; the active one is counted). */
  records: number;
  bytes: number;
  /** The log's Merkle root at a sealed segment's end. */
  root?: string;
  /** Why it could not be read or its manifest not used. */
  problem?: string;
}

export interface LogInspection {
  dir: string;
  format: typeof WAL_FORMAT;
  segments: SegmentInfo[];
  records: number;
  bytes: number;
  last?: { seq: number; id: string; type: string; time: string };
  checkpoint?: { seq: number; size: number; time: string; key: string };
  snapshot: { size: number; segment: string } | 'damaged' | null;
  /** Records compacted into archive files (counted in `records`), and where those are. */
  compacted?: { records: number; segments: number; archives: number; archive_dir: string };
  /** The process holding the writer's lock, and whether it still runs. */
  writer: { pid: number; alive: boolean } | null;
}

export function inspectLog(dir: string): LogInspection {
  const { segments: names, base } = liveSegments(dir);
  if (names.length === 0) throw new Error(`no audit log in ${dir} (no segment files)`);
  const read = new Map<string, StoredRecord[]>();
  /** Every record of one segment, or why not. */
  const recordsOf = (info: SegmentInfo): StoredRecord[] => {
    let records = read.get(info.name);
    if (records) return records;
    const follower = new LogFollower(dir, { segment: info.name, offset: 0, seq: info.first_seq });
    records = info.state === 'sealed' ? follower.poll(info.records) : follower.poll();
    read.set(info.name, records);
    return records;
  };
  const segments = names.map((name): SegmentInfo => {
    const info: SegmentInfo = {
      name,
      state: 'active',
      first_seq: firstSeqOf(name),
      records: 0,
      bytes: statSync(join(dir, name)).size,
    };
    const manifest = readManifest(dir, name);
    if (typeof manifest !== 'string') Object.assign(info, { state: 'sealed', records: manifest.count, root: manifest.root });
    else if (name !== names.at(-1)) info.problem = manifest;
    return info;
  });
  const active = segments.at(-1)!;
  if (active.state === 'active')
    try {
      active.records = recordsOf(active).length;
    } catch (e) {
      active.problem = (e as Error).message;
    }
  const inspection: LogInspection = {
    dir,
    format: WAL_FORMAT,
    segments,
    records: segments.reduce((n, s) => n + s.records, base?.base.size ?? 0),
    bytes: segments.reduce((n, s) => n + s.bytes, 0),
    snapshot: snapshotOf(dir),
    writer: writerOf(dir),
  };
  if (base) {
    const b = base.base;
    inspection.compacted = { records: b.size, segments: b.segments.length, archives: b.archives.length, archive_dir: b.archive_dir };
  }
  // Newest segment first, until one holds a checkpoint.
  for (let i = segments.length - 1; i >= 0 && !inspection.checkpoint; i--) {
    const info = segments[i]!;
    if (info.problem) continue;
    let records: StoredRecord[];
    try {
      records = recordsOf(info);
    } catch (e) {
      info.problem = (e as Error).message;
      continue;
    }
    const last = records.at(-1)?.record;
    if (last && !inspection.last)
      inspection.last = { seq: Number(last.seq), id: String(last.id), type: String(last.type), time: String(last.time) };
    const cp = records.findLast((r) => r.record.type === 'checkpoint')?.record;
    if (cp) inspection.checkpoint = { seq: Number(cp.seq), size: Number(cp.size), time: String(cp.time), key: String(cp.key) };
  }
  return inspection;
}

function snapshotOf(dir: string): LogInspection['snapshot'] {
  const s = readSnapshot(dir);
  return s === undefined ? null : s === 'damaged' ? 'damaged' : { size: s.size, segment: s.segment };
}

function writerOf(dir: string): LogInspection['writer'] {
  let text: string;
  try {
    text = readFileSync(join(dir, 'LOCK'), 'utf8');
  } catch {
    return null;
  }
  return lockHolder(text) ?? null;
}
