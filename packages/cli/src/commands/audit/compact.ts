/**
 * `faramesh audit compact --older-than 90d [--archive DIR]`: sealed log segments whose every record
 * is older than that move into one archive file, and a base stays in the log directory so the live
 * log goes on and `audit verify` still checks it (`--include-archived` reads the archives too). A
 * running daemon does it, since it holds the log's writer lock, its signing key, the sinks'
 * positions and the engine state the base must carry; with none running, this command does the
 * same from the stack's files.
 */
import { resolve } from 'node:path';
import { DaemonUnreachableError, operatorCall, stackPaths } from '@faramesh/daemon/client';
import { makeOut, type Format } from '../../output.js';
import { guarded, operatorName, UsageError } from '../daemon/operator.js';
import { sinceSeconds } from '../../since.js';

export interface CompactOptions {
  stack: string;
  olderThan: string;
  archive?: string;
  format: Format;
  noColor?: boolean;
}

interface Compacted {
  records: number;
  segments: number;
  size: number;
  archive?: string;
  archive_dir: string;
  /** Old sealed segments were kept live from this record on … */
  held?: number;
  /** … for these sinks, which have not shipped it yet. */
  held_by?: string[];
}

/** Why older sealed segments stayed live, if they did. */
function heldNote(r: Compacted): string {
  if (r.held === undefined) return '';
  const who = r.held_by?.length
    ? `sink ${r.held_by.join(', ')} has not shipped record ${r.held + 1} yet (faramesh status shows why)`
    : `the daemon's state snapshot ends at record ${r.held}`;
  return `sealed segments from record ${r.held} on stay live, old as they are: ${who}`;
}

export function compactCmd(o: CompactOptions): Promise<number> {
  return guarded(makeOut(o.noColor), async (out) => {
    const seconds = sinceSeconds(o.olderThan);
    if (seconds === undefined) throw new UsageError(`--older-than: '${o.olderThan}' is not a duration (90d, 24h, 30m)`);
    const params = { older_than_s: seconds, by: operatorName(), ...(o.archive ? { archive_dir: resolve(o.archive) } : {}) };
    let r: Compacted;
    try {
      r = await operatorCall<Compacted>(stackPaths(o.stack).operatorSocket, 'audit.compact', params, 600_000);
    } catch (e) {
      if (!(e instanceof DaemonUnreachableError && e.absent)) throw e;
      const stopped = await compactHere(o.stack, seconds, params, out);
      if (typeof stopped === 'number') return stopped;
      r = stopped;
    }
    if (o.format === 'json') out.print(JSON.stringify(r, null, 2));
    else if (r.records === 0)
      out.print(
        (r.held !== undefined
          ? `nothing to compact: ${heldNote(r)}`
          : `nothing to compact: no sealed segment is older than ${o.olderThan}`) +
          (r.size > 0 ? ` (the log's first ${r.size.toLocaleString('en-US')} records are already archived)` : ''),
      );
    else {
      out.print(
        out.ok(
          `${r.records.toLocaleString('en-US')} records (${r.segments} segments) moved to ${r.archive}; ` +
            `the log's first ${r.size.toLocaleString('en-US')} records are archived, and the live log verifies on from them`,
        ),
      );
      if (r.held !== undefined) out.print(heldNote(r));
    }
    return 0;
  });
}

/** No daemon runs: compact from the stack's files (its lock keeps a daemon that starts meanwhile out). */
async function compactHere(
  stack: string,
  seconds: number,
  params: { by: string; archive_dir?: string },
  out: ReturnType<typeof makeOut>,
): Promise<Compacted | number> {
  const { compactStopped } = await import('@faramesh/daemon');
  try {
    return await compactStopped({
      stackDir: resolve(stack),
      olderThanMs: seconds * 1000,
      nowMs: Date.now(),
      ...(params.archive_dir ? { archiveDir: params.archive_dir } : {}),
      by: params.by,
      env: process.env,
      say: (line) => out.error(line),
    });
  } catch (e) {
    out.error(out.fail(`the log was not compacted (no daemon is running, so this command tried itself): ${(e as Error).message}`));
    return 1;
  }
}
