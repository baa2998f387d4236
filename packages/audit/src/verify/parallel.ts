/**
 * `audit verify` on several cores. The main thread reads each segment, splits its frames into
 * runs, and worker threads scan the runs (checksums, leaf hashes, JSON, fields:
 * most of the work) while the main thread folds the finished scans in log order (links, tree,
 * checkpoints). Same scan, same fold as `verifyLog`, so the report is the same.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { frameEnd, frameRuns, walkFrames } from '../frames.js';
import { LogFold } from './fold.js';
import { scanRecords, type RecordScan, type RunSummary } from './scan.js';
import { logSources, readSource, type LogSources } from './sources.js';
import { RUN_FRAMES, verifyLog, type VerifyOptions, type VerifyReport } from './verify.js';
import type { TimeWindow } from './window.js';

export interface ParallelOptions extends VerifyOptions {
  /** Worker threads; 0 verifies inline. Default: one per core, at most 4. */
  workers?: number;
  /** Verify inline below this many bytes of log (default `PARALLEL_MIN_BYTES`). */
  minBytes?: number;
  /** Frames per run (tests make it small to cross run boundaries often). */
  runFrames?: number;
  /** Told how each run was folded: from a clean run's summary, from a worker's whole scan, or scanned again. */
  onRun?: (how: 'summary' | 'scan' | 'rescanned') => void;
}

export interface ScanTask {
  id: number;
  /** The whole segment, shared with the main thread (never written once read). */
  bytes: SharedArrayBuffer;
  /** Where the run's first frame starts. */
  from: number;
  /** Where the next run starts (`Infinity` for the segment's last run). */
  stop: number;
  window: TimeWindow;
}

/** Below this much log, starting workers (about 100 ms) costs more than they save. */
export const PARALLEL_MIN_BYTES = 32 << 20;

/** Segments read ahead of the fold: each is up to 64 MiB in memory. */
const READ_AHEAD = 2;
const WORKER_URL = new URL('./verify-worker.js', import.meta.url);

/** A worker's answer: a clean run's summary, or the whole scan. */
export type ScanResult = { summary: RunSummary; scan?: undefined } | { scan: RecordScan; summary?: undefined };

interface Segment {
  bytes: Buffer;
  runs: { from: number; stop: number; result: Promise<ScanResult> }[];
}

export async function verifyLogParallel(dir: string, options: ParallelOptions): Promise<VerifyReport> {
  const log = logSources(dir, options);
  const count = options.workers ?? Math.min(4, availableParallelism());
  if (count === 0 || log.total < (options.minBytes ?? PARALLEL_MIN_BYTES)) return verifyLog(dir, options);
  const pool = new ScanPool(count);
  try {
    return await foldInParallel(dir, log, pool, options);
  } catch (e) {
    // Workers that fail (they could not start, or died) cost speed, not the verdict: verify inline.
    if (!(e instanceof PoolError)) throw e;
    return verifyLog(dir, options);
  } finally {
    await pool.close();
  }
}

async function foldInParallel(dir: string, log: LogSources, pool: ScanPool, options: ParallelOptions): Promise<VerifyReport> {
  const segments = log.sources;
  const window: TimeWindow = { from: options.from, to: options.to };
  const perRun = options.runFrames ?? RUN_FRAMES;
  const ahead: Segment[] = [];
  let read = 0;
  const readNext = () => {
    // Read into memory the workers share: each scans its runs in place (copying each run out cost
    // the main thread more). A live segment's size is taken once: what is appended later is not read.
    const bytes = readSource(segments[read++]!, (size) => Buffer.from(new SharedArrayBuffer(size)));
    const start = recordsStart(bytes);
    const starts = start === undefined ? [] : frameRuns(bytes, start, perRun);
    const runs = starts.map((from, k) => {
      const stop = starts[k + 1] ?? Infinity;
      return { from, stop, result: pool.scan({ bytes: bytes.buffer as SharedArrayBuffer, from, stop, window }) };
    });
    ahead.push({ bytes, runs });
  };
  const fold = new LogFold(dir, log, options);
  for (let i = 0; i < segments.length; i++) {
    while (read < Math.min(segments.length, i + READ_AHEAD)) readNext();
    const { bytes, runs } = ahead.shift()!;
    fold.beginSegment(i, bytes);
    for (const run of runs) {
      const { summary, scan } = await run.result;
      if (scan) {
        fold.fold(scan, bytes);
        options.onRun?.('scan');
      } else if (fold.foldSummary(summary, bytes)) options.onRun?.('summary');
      else {
        // The run is clean but does not join cleanly: scanned again here, whole, for the fold to judge.
        fold.fold(scanRecords(bytes, run.from, run.stop, window), bytes);
        options.onRun?.('rescanned');
      }
    }
    fold.endSegment(bytes);
  }
  return fold.finish();
}

/** Where a segment's records start: after its header frame (undefined when it has none). */
function recordsStart(bytes: Buffer): number | undefined {
  const first = walkFrames(bytes).next();
  return !first.done && first.value.kind === 'frame' ? frameEnd(first.value) : undefined;
}

class PoolError extends Error {
  constructor(cause: Error) {
    super(`verify workers failed: ${cause.message}`, { cause });
  }
}

/** Worker threads that scan runs, each handed the next task as it finishes one. */
class ScanPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: ScanTask[] = [];
  private readonly pending = new Map<number, { resolve: (s: ScanResult) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private failed?: PoolError;
  private closing = false;

  constructor(size: number) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(WORKER_URL);
      worker.on('message', ({ id, ...result }: { id: number } & ScanResult) => {
        const p = this.pending.get(id)!;
        this.pending.delete(id);
        p.resolve(result);
        this.next(worker);
      });
      worker.on('error', (e) => this.fail(e));
      worker.on('exit', (code) => {
        if (this.pending.size > 0 && !this.closing) this.fail(new Error(`a verify worker exited (code ${code}) with runs unscanned`));
      });
      this.workers.push(worker);
      this.idle.push(worker);
    }
  }

  scan(task: Omit<ScanTask, 'id'>): Promise<ScanResult> {
    const id = this.nextId++;
    const done = this.failed
      ? Promise.reject(this.failed)
      : new Promise<ScanResult>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    // Runs are awaited in order, long after they are queued: a failure must not go unhandled meanwhile.
    done.catch(() => undefined);
    if (this.failed) return done;
    this.queue.push({ id, ...task });
    const worker = this.idle.pop();
    if (worker) this.next(worker);
    return done;
  }

  private next(worker: Worker): void {
    const task = this.queue.shift();
    if (task) worker.postMessage(task);
    else this.idle.push(worker);
  }

  private fail(cause: Error): void {
    const e = (this.failed ??= new PoolError(cause));
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
