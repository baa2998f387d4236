/**
 * The records a compaction moved into archive files, read back (`audit export --include-archived`).
 * The archives are found and checked as `audit verify --include-archived` finds them (their SHA-256
 * in the base, their header against the base's manifests); each frame's checksum and each record's
 * position are checked as they are read.
 */
import { walkFrames } from '../frames.js';
import { LogCorruptError } from '../log/errors.js';
import { parseHeader, parseJsonObject } from '../log/manifest.js';
import { logSources, readSource } from '../verify/sources.js';
import type { StoredRecord } from './follower.js';

/** Every archived record, in log order (none when the log was never compacted). */
export function readArchivedRecords(dir: string, archiveDir?: string): StoredRecord[] {
  const out: StoredRecord[] = [];
  eachArchivedRecord(dir, (r) => out.push(r), archiveDir === undefined ? {} : { archiveDir });
  return out;
}

/**
 * Visit every archived record in log order, one archived segment at a time (an archive is never
 * held whole). With `since` (epoch ms), archived segments whose every record is older are passed
 * over, by the latest record time their manifest in the base keeps.
 */
export function eachArchivedRecord(dir: string, visit: (r: StoredRecord) => void, o: { archiveDir?: string; since?: number } = {}): void {
  const log = logSources(dir, { includeArchived: true, ...(o.archiveDir !== undefined ? { archiveDir: o.archiveDir } : {}) });
  const problem = log.problems[0];
  if (problem) throw new LogCorruptError(problem.segment, problem.offset, problem.reason);
  for (const src of log.sources) {
    if (!src.archived) break;
    const maxTime = log.base?.base.segments.find((m) => m.first_seq === src.firstSeq)?.max_time;
    if (o.since !== undefined && maxTime !== undefined && Date.parse(maxTime) < o.since) continue;
    const bytes = readSource(src);
    let seq = src.firstSeq;
    let header = true;
    for (const step of walkFrames(bytes)) {
      if (step.kind !== 'frame' || !step.crcOk) throw new LogCorruptError(src.name, step.offset, 'a damaged frame in the archive', seq);
      if (header) {
        header = false;
        if (parseHeader(step.payload)?.first_seq !== seq) throw new LogCorruptError(src.name, 0, 'the archived segment has no header');
        continue;
      }
      const record = parseJsonObject(step.payload);
      if (!record || record.seq !== seq) throw new LogCorruptError(src.name, step.offset, `expected record seq ${seq}`, seq);
      visit({ seq: seq++, record, payload: Buffer.from(step.payload), segment: src.name, offset: step.offset });
    }
  }
}
