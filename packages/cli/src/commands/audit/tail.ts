/**
 * faramesh audit tail [--agent] [--effect] [--tool] [--limit N] [--format text|json] [--no-follow]:
 * the last records, then new ones as the daemon writes them. While this stack's daemon runs (and no
 * `--dir` is given) new records come through it, over the operator socket, and the past from the
 * files (or the daemon's window of what it wrote, where the files cannot be read); otherwise all
 * from the files, which need no daemon. Stops on SIGINT/SIGTERM.
 */
import { existsSync } from 'node:fs';
import { LogFollower, type StoredRecord } from '@faramesh/audit';
import { DaemonUnreachableError, OperatorError, operatorCall, stackPaths, type TailPage, type TailQuery } from '@faramesh/daemon/client';
import { makeOut, type Out } from '../../output.js';
import { recordLine } from './render.js';
import { walDir, type AuditPathOptions } from './paths.js';

export interface TailOptions extends AuditPathOptions {
  agent?: string;
  effect?: 'permit' | 'defer' | 'deny';
  tool?: string;
  limit: string;
  format: 'text' | 'json';
  follow: boolean;
  /** Poll interval in ms (tests shorten it). */
  interval?: number;
  noColor?: boolean;
}

/** How long one poll through the daemon waits for a record before asking again. */
const LONG_POLL_MS = 20_000;
/** The pause after a poll that brought nothing. */
const EMPTY_POLL_PAUSE_MS = 250;

export async function tailCmd(o: TailOptions): Promise<number> {
  const out = makeOut(o.noColor);
  const limit = Number(o.limit);
  if (!Number.isSafeInteger(limit) || limit < 0) {
    out.error(out.fail(`--limit: '${o.limit}' is not a count`));
    return 64;
  }
  const print = (json: string, record: Record<string, unknown>) => out.print(o.format === 'json' ? json : recordLine(record, out.color));
  const operatorSocket = stackPaths(o.stack).operatorSocket;
  if (!o.dir && existsSync(operatorSocket)) {
    const code = await throughDaemon(operatorSocket, o, limit, print, out);
    if (code !== undefined) return code;
  }
  return fromFiles(o, limit, print, out);
}

type Print = (json: string, record: Record<string, unknown>) => void;

/** Follow the stop signals for as long as `run` goes on. */
function untilSignal<T>(run: (stopped: AbortSignal) => Promise<T>): Promise<T> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  return run(stop.signal).finally(() => process.off('SIGINT', onSignal).off('SIGTERM', onSignal));
}

/** Undefined when no daemon answers (the files are read instead). */
async function throughDaemon(socket: string, o: TailOptions, limit: number, print: Print, out: Out): Promise<number | undefined> {
  const filter = { ...(o.agent ? { agent: o.agent } : {}), ...(o.tool ? { tool: o.tool } : {}), ...(o.effect ? { effect: o.effect } : {}) };
  const call = (q: TailQuery, signal?: AbortSignal) =>
    operatorCall<TailPage>(socket, 'audit.tail', { ...filter, ...q }, LONG_POLL_MS + 10_000, signal);
  const show = (page: TailPage) => {
    for (const json of page.records) print(json, JSON.parse(json) as Record<string, unknown>);
  };
  let next: number;
  try {
    const head = await call({ limit: 1 });
    // The past comes from the files where they can be read (the daemon holds only what it wrote
    // since it started); the daemon's window is the fallback, and the live part is the daemon's.
    const disk = lastFromFiles(o, limit, print);
    if (disk !== undefined) next = Math.max(disk, head.next);
    else {
      const page = limit === 0 ? { records: [], next: head.next } : await call({ limit });
      show(page);
      next = page.next;
    }
  } catch (e) {
    if (e instanceof DaemonUnreachableError) return undefined;
    out.error(out.fail((e as Error).message));
    return 1;
  }
  if (!o.follow) return 0;
  return untilSignal(async (stopped) => {
    let failures = 0;
    while (!stopped.aborted) {
      try {
        const more = await call({ after: next, wait_ms: LONG_POLL_MS, limit: 1000 }, stopped);
        if (more.skipped) out.error(`! ${more.skipped} records went by faster than this tail read them (they are in the log)`);
        show(more);
        next = more.next;
        failures = 0;
        // Nothing came, and at once (a draining daemon answers its long polls without waiting): ask
        // again a moment later, not in a loop, until it has stopped.
        if (more.records.length === 0 && !stopped.aborted)
          await new Promise<void>((r) => {
            const timer = setTimeout(done, EMPTY_POLL_PAUSE_MS);
            function done() {
              clearTimeout(timer);
              stopped.removeEventListener('abort', done);
              r();
            }
            stopped.addEventListener('abort', done);
          });
      } catch (e) {
        if (stopped.aborted) return 0;
        if (e instanceof DaemonUnreachableError) {
          // A notice, not a record: on stderr, so `--format json` stays one JSON record per line.
          out.error('— the daemon stopped');
          return 0;
        }
        // A connection cut while the daemon shuts down: ask again, and it will not answer at all.
        if (e instanceof OperatorError || ++failures > 3) {
          out.error(out.fail((e as Error).message));
          return 1;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    return 0;
  });
}

const keeps = (o: TailOptions) => (r: StoredRecord) =>
  (o.agent === undefined || r.record.agent_id === o.agent) &&
  (o.tool === undefined || r.record.tool === o.tool) &&
  (o.effect === undefined || (r.record.type === 'decision' && r.record.effect === o.effect));

const printStored = (print: Print) => (r: StoredRecord) =>
  print(r.payload.toString('utf8'), r.record as unknown as Record<string, unknown>);

/** Records read from the files at a time: a tail keeps only its last `limit`, never the whole log. */
const READ_BATCH = 1024;

/**
 * The last `limit` records `keep` accepts, from where `follower` stands to the end of the files, read
 * a batch at a time (a log of any size is read in the memory of a batch and `limit` records), and
 * the seq after the last record read (0 when there was none).
 */
function lastMatching(follower: LogFollower, keep: (r: StoredRecord) => boolean, limit: number): { last: StoredRecord[]; next: number } {
  let last: StoredRecord[] = [];
  let next = 0;
  for (let batch = follower.poll(READ_BATCH); batch.length > 0; batch = follower.poll(READ_BATCH)) {
    // Trimmed now and then, not on every record: the newest `limit` are kept in linear time.
    for (const r of batch) if (keep(r) && last.push(r) > 2 * limit) last = last.slice(last.length - limit);
    next = Number(batch.at(-1)!.record.seq) + 1;
  }
  return { last: last.slice(Math.max(0, last.length - limit)), next };
}

/** Print the last `limit` matching records from the files; the seq after the last one read, or undefined when unreadable. */
function lastFromFiles(o: TailOptions, limit: number, print: Print): number | undefined {
  let found: { last: StoredRecord[]; next: number };
  try {
    found = lastMatching(new LogFollower(walDir(o)), keeps(o), limit);
  } catch {
    return undefined;
  }
  found.last.forEach(printStored(print));
  return found.next;
}

function fromFiles(o: TailOptions, limit: number, print: Print, out: Out): Promise<number> | number {
  const keep = keeps(o);
  const show = printStored(print);
  const follower = new LogFollower(walDir(o));
  try {
    lastMatching(follower, keep, limit).last.forEach(show);
  } catch (e) {
    out.error(out.fail((e as Error).message));
    return 1;
  }
  if (!o.follow) return 0;
  return untilSignal(
    (stopped) =>
      new Promise<number>((resolve) => {
        const timer = setInterval(() => {
          try {
            for (const r of follower.poll()) if (keep(r)) show(r);
          } catch (e) {
            out.error(out.fail((e as Error).message));
            clearInterval(timer);
            resolve(1);
          }
        }, o.interval ?? 250);
        stopped.addEventListener('abort', () => {
          clearInterval(timer);
          resolve(0);
        });
      }),
  );
}
