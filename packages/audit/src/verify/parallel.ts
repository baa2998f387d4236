/**
 * `audit verify` on several cores. The main thread reads each segment, splits its frames into
 * runs, and worker threads scan the runs (checksums, leaf hashes, JSON, fields:
 * most of the work) while the main thread folds the finished scans in log order (links, tree,
 * checkpoints). Same scan, same fold as `verifyLog`, so the report is the same.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { frameEnd, walkFrames } from '../frames.js';
import { LogFold } from './fold.js';
import { scanRecords, scanTask, type RecordScan, type RunSummary } from './scan.js';
import { BufferSlots, pieceRuns, SegmentPieces, WINDOW, type Piece } from './pieces.js';
import { logSources, type LogSources } from './sources.js';
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
  /** The piece's memory, shared with the main thread (never written while its runs are scanned). */
  bytes: SharedArrayBuffer;
  /** How many of those bytes are the piece: a reused buffer holds older bytes past them. */
  length: number;
  /** Where the piece starts in its segment (offsets are reported in the segment). */
  base: number;
  /** Where the run's first frame starts. */
  from: number;
  /** Where the next run starts (`Infinity` for the last run of a segment's final piece). */
  stop: number;
  window: TimeWindow;
}

/** Below this much log, starting workers (about 100 ms) costs more than they save. */
export const PARALLEL_MIN_BYTES = 32 << 20;

/** Pieces read ahead of the fold, each in a shared buffer of twice WINDOW bytes, reused once folded. */
const READ_AHEAD = 8;
const WORKER_URL = new URL('./verify-worker.js', import.meta.url);
/** Runs a worker holds at once: the one it scans and the next. */
const PER_WORKER = 2;

/** A worker's answer: a clean run's summary, or the whole scan. */
export type ScanResult = { summary: RunSummary; scan?: undefined } | { scan: RecordScan; summary?: undefined };

interface Queued {
  piece: Piece;
  runs: Run[];
}

export async function verifyLogParallel(dir: string, options: ParallelOptions): Promise<VerifyReport> {
  const log = logSources(dir, options);
  const count = options.workers ?? Math.min(4, Math.max(1, availableParallelism() - 1));
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
  // Read into memory the workers share: each scans its runs in place (copying each run out cost
  // the main thread more).
  const pieceBytes = options.pieceBytes ?? WINDOW;
  const slots = new BufferSlots(2 * pieceBytes, (size) => Buffer.from(new SharedArrayBuffer(size)));
  const ahead: Queued[] = [];
  let opened = 0;
  let reading: SegmentPieces | undefined;
  /** Read the next piece of the log and hand its runs to the workers; false at the end of the log. */
  const readNext = (): boolean => {
    for (;;) {
      if (!reading) {
        if (opened === segments.length) return false;
        const src = segments[opened]!;
        reading = new SegmentPieces(src, opened++, slots, !src.active, pieceBytes);
      }
      const piece = reading.next();
      if (!piece) {
        reading = undefined;
        continue;
      }
      const start = piece.first ? recordsStart(piece.bytes) : 0;
      const shared = { bytes: piece.bytes.buffer as SharedArrayBuffer, length: piece.bytes.length, base: piece.base, window };
      const runs = start === undefined ? [] : pieceRuns(piece, start, perRun);
      ahead.push({ piece, runs: runs.map((run) => pool.scan({ ...shared, ...run })) });
      return true;
    }
  };
  const fold = new LogFold(dir, log, options);
  try {
    for (let more = true; ;) {
      while (more && ahead.length < READ_AHEAD) more = readNext();
      const queued = ahead.shift();
      if (!queued) break;
      const { piece } = queued;
      if (piece.first) fold.beginSegment(piece.segment, piece.bytes);
      for (const run of queued.runs) {
        // While a worker has this run, scan others here; between them, let the workers' answers in.
        while (!run.result && pool.steal(run)) if (!run.result) await new Promise(setImmediate);
        const { summary, scan } = run.result ?? (await run.answer);
        if (scan) {
          fold.fold(scan, piece);
          options.onRun?.('scan');
        } else if (fold.foldSummary(summary, piece)) options.onRun?.('summary');
        else {
          // The run is clean but does not join cleanly: scanned again here, whole, for the fold to judge.
          fold.fold(scanRecords(piece.bytes, run.from, run.stop, window, piece.base), piece);
          options.onRun?.('rescanned');
        }
      }
      slots.give(piece.bytes);
      if (piece.digest) fold.endSegment(piece.digest);
    }
  } finally {
    reading?.close();
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

/** A run handed to the pool: its answer, once a worker (or the main thread) has scanned it. */
export interface Run {
  id: number;
  from: number;
  stop: number;
  answer: Promise<ScanResult>;
  /** Set as soon as the answer is known (before `answer` settles), to fold without waiting. */
  result?: ScanResult;
}

/**
 * Worker threads that scan runs, each handed the next task as it finishes one. The main thread
 * scans too (`steal`) while the run it must fold next is still at a worker: on two cores, one
 * worker and the main thread keep both busy.
 */
class ScanPool {
  private readonly workers: Worker[] = [];
  /** Runs posted to each worker and not yet answered. */
  private readonly posted = new Map<Worker, number>();
  private readonly queue: ScanTask[] = [];
  private readonly pending = new Map<number, { run: Run; resolve: (s: ScanResult) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private failed?: PoolError;
  private closing = false;

  constructor(size: number) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(WORKER_URL);
      worker.on('message', ({ id, ...result }: { id: number } & ScanResult) => {
        this.settle(id, result);
        this.posted.set(worker, this.posted.get(worker)! - 1);
        this.feed(worker);
      });
      worker.on('error', (e) => this.fail(e));
      worker.on('exit', (code) => {
        if (this.pending.size > 0 && !this.closing) this.fail(new Error(`a verify worker exited (code ${code}) with runs unscanned`));
      });
      this.workers.push(worker);
      this.posted.set(worker, 0);
    }
  }

  scan(task: Omit<ScanTask, 'id'>): Run {
    const id = this.nextId++;
    let settle: { resolve: (s: ScanResult) => void; reject: (e: Error) => void } | undefined;
    const answer = this.failed ? Promise.reject(this.failed) : new Promise<ScanResult>((resolve, reject) => (settle = { resolve, reject }));
    // Runs are awaited in order, long after they are queued: a failure must not go unhandled meanwhile.
    answer.catch(() => undefined);
    const run: Run = { id, from: task.from, stop: task.stop, answer };
    if (!settle) return run;
    this.pending.set(id, { run, ...settle });
    this.queue.push({ id, ...task });
    for (const worker of this.workers) this.feed(worker);
    return run;
  }

  /**
   * Scan a queued run on this thread: `run` itself when no worker has it yet, else the last one
   * queued (the workers take from the front). False when every run is at a worker or done.
   */
  steal(run: Run): boolean {
    let at = this.queue.findIndex((t) => t.id === run.id);
    if (at < 0) at = this.queue.length - 1;
    if (at < 0) return false;
    const [task] = this.queue.splice(at, 1);
    this.settle(task!.id, scanTask(task!).result);
    return true;
  }

  private settle(id: number, result: ScanResult): void {
    const p = this.pending.get(id);
    // An answer after the pool failed: its run was rejected already, and is verified inline.
    if (!p) return;
    this.pending.delete(id);
    p.run.result = result;
    p.resolve(result);
  }

  /**
   * Keep `worker` holding PER_WORKER runs: it starts the next as soon as it answers one, even while
   * the main thread is busy scanning and has not yet read the answer.
   */
  private feed(worker: Worker): void {
    for (let n = this.posted.get(worker)!; n < PER_WORKER && this.queue.length > 0; n++) {
      worker.postMessage(this.queue.shift()!);
      this.posted.set(worker, n + 1);
    }
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
