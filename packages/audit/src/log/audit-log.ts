/**
 * The audit log: one sequencer per stack, segment files of CRC-framed canonical records, an RFC 6962
 * Merkle tree over every record, group commit, signed checkpoints.
 *
 * - `append` assigns `seq`, `lamport_seq` and `prev_hash` atomically (synchronously, in call order)
 *   and resolves only once the record is fsynced; concurrent appends share one fsync.
 * - `prev_hash` is the previous record's Merkle leaf hash, H(0x00 ‖ canonical bytes), in hex.
 * - A failed write fails the log: every later append is refused, so the chain can never fork.
 *   Reopening rebuilds the state from what is durable; so does `resume`, once the disk takes writes again.
 * - The active segment is preallocated with zeros ahead of the records: overwriting allocated
 *   blocks lets fdatasync skip the metadata journal, which halves its cost. Sealing trims it.
 * - With a signer, the tree head is signed every `checkpointEvery` records or `checkpointMs`, and on
 *   close; the checkpoint is itself a record. A snapshot of the sequencer follows each checkpoint,
 *   so reopening reads only the tail.
 */
import {
  closeSync,
  existsSync,
  fdatasync,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  writeSync,
} from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { canonicalJson } from '@faramesh/protocol';
import { signCheckpoint } from '../checkpoint.js';
import { encodeTextFrame } from '../frames.js';
import { leafHash, type Hash } from '../merkle.js';
import type { Signer } from '../note.js';
import type { CheckpointRecord, RecordInput, Sequenced } from '../events.js';
import { encodeVerifierKey } from '../keys.js';
import { LogFollower } from '../read/follower.js';
import { BASE_FILE, leavesName, liveSegments } from './base.js';
import { planCompaction, removeCompacted, writeCompaction, type CompactOptions, type CompactResult } from './compact.js';
import { acquireLock, listSegments, writeDurable } from './files.js';
import { createSegment, readManifest, sha256hex, writeManifest } from './manifest.js';
import { recover, type OpenReport } from './recover.js';
import { RecordClock } from './clock.js';
import { chainOf, type SequencerState } from './sequencer.js';
import { writeSnapshot, type Snapshot } from './snapshot.js';
import { LogCorruptError } from './errors.js';

export { LogCorruptError } from './errors.js';
export type { CompactOptions, CompactResult } from './compact.js';
export type { OpenReport } from './recover.js';
export { WAL_FORMAT, type SegmentManifest } from './manifest.js';

const SEGMENT_BYTES = 64 << 20;
const PREALLOCATE = 1 << 20;
/** A batch with this many waiters may sync on the threadpool (see flush). */
const PIPELINE_AT = 8;
/** While threadpool syncs overlap nothing, one large batch in this many still goes there, to look again. */
const PROBE_EVERY = 16;

export interface OpenOptions {
  /** Told what went wrong beside the records (a snapshot that could not be written); appends are unharmed. */
  warn?: (message: string) => void;
  /** Seal a segment and start the next once it reaches this size (default 64 MiB). */
  maxSegmentBytes?: number;
  /** Signs checkpoints; without one the log keeps no checkpoints. */
  signer?: Signer;
  /** Sign a checkpoint after this many records (default 10,000) … */
  checkpointEvery?: number;
  /** … or this long after the first unsigned record (default 10 s). */
  checkpointMs?: number;
  /** Write a snapshot after this many records even without checkpoints (default 10,000). */
  snapshotEvery?: number;
  /** Tag every record `dev: true` (`faramesh dev`: stub providers and a throwaway log). */
  dev?: boolean;
  /**
   * True when more appends are on their way (a request accepted but not yet read): the batch then
   * syncs on the threadpool, so they are read and decided meanwhile and join the next batch.
   */
  busy?: () => boolean;
  /** The time records and checkpoints are stamped with (default `Date.now`; the daemon's own clock). */
  now?: () => number;
}

/** Told of each record once it is durable, in log order, with its canonical bytes. */
export type RecordListener = (record: Appended, payload: Buffer) => void;

/** A record as appended: the input plus what the sequencer assigned. */
export type Appended<T extends RecordInput = RecordInput> = T & Sequenced & { id: string; time: string };

/** Where the log ends: the next record's seq and the byte position it will be written at. */
export interface LogPosition {
  seq: number;
  segment: string;
  offset: number;
}

/** The log's end, with where the last record sits and its leaf hash (to recognise the same log later). */
export interface LogTip extends LogPosition {
  last?: { segment: string; offset: number; leaf: string };
}

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
}

export class AuditLog {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private waiters: Waiter[] = [];
  /** The waiters of a batch whose fsync is on the threadpool. */
  private syncing?: Waiter[];
  /** Whether appends arrived during the last threadpool sync (so the next large batch goes there too). */
  private overlapped = true;
  private sinceProbe = 0;
  private readonly listeners = new Set<RecordListener>();
  private flushing?: Promise<void>;
  private failed?: Error;
  /** The failure was a write or sync of the active segment (a full disk): `resume` may undo it. */
  private resumable = false;
  /** The failure cut a rotation short (a full disk, no file descriptor left): every record was acknowledged. */
  private rotationCut = false;
  /** Why the last `resume` could not. */
  private resumeRefusal?: string;
  /** Where the active segment's acknowledged records end: a failed batch is cut back to here. */
  private durableBytes: number;
  private closed = false;
  private signer?: Signer;
  private signerKey?: string;
  private readonly clock: RecordClock;
  private checkpointing?: Promise<CheckpointRecord | undefined>;
  private compacting = false;
  private checkpointTimer?: NodeJS.Timeout;
  /** Records (other than checkpoints) not yet covered by a checkpoint, and since the last snapshot. */
  private unsigned: number;
  private sinceSnapshot = 0;
  /** The active segment's size on disk: its records, then preallocated zeros. */
  private allocated: number;
  /** The active segment's file (device and inode), to notice it removed or replaced under the log. */
  private segmentFile: { dev: number; ino: number };
  /** When the segment's identity is next compared (performance.now() ms; see checkInPlace). */
  private identityDue = 0;
  private snapshotDue = false;
  /** The last checkpoint failure (signing or appending); the next checkpoint retries. */
  lastCheckpointError?: Error;
  /** The last snapshot that could not be written (the records it described were durable all the same). */
  lastSnapshotError?: Error;
  /** fsyncs issued and the time spent in write + fsync, for the group-commit tests and the benchmark. */
  fsyncs = 0;
  syncMs = 0;

  private constructor(
    readonly dir: string,
    private fd: number,
    private state: SequencerState,
    private readonly unlock: () => void,
    private readonly options: OpenOptions,
  ) {
    this.clock = new RecordClock(options.now, this.latestTimeMs ?? -1);
    this.signer = options.signer;
    if (options.signer) this.signerKey = encodeVerifierKey(options.signer);
    const opened = fstatSync(fd);
    this.allocated = opened.size;
    this.segmentFile = { dev: opened.dev, ino: opened.ino };
    this.durableBytes = state.segmentBytes;
    this.unsigned = unsignedIn(state);
  }

  static async open(dir: string, options: OpenOptions = {}): Promise<{ log: AuditLog; report: OpenReport }> {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const unlock = acquireLock(dir);
    let fd: number | undefined;
    try {
      const { state, report } = recover(dir, options.signer);
      fd = openSync(join(dir, state.segment), 'r+');
      if (report.truncated) fsyncSync(fd);
      const log = new AuditLog(dir, fd, state, unlock, options);
      await log.start();
      return { log, report };
    } catch (e) {
      if (fd !== undefined) closeSync(fd);
      unlock();
      throw e;
    }
  }

  /** Announce a new signing key, and start the checkpoint clock. */
  private async start(): Promise<void> {
    if (!this.signer || !this.signerKey) return;
    if (this.state.key !== this.signerKey)
      await this.append({ type: 'key_rotated', key: this.signerKey, ...(this.state.key ? { previous_key: this.state.key } : {}) });
    this.startCheckpointClock();
  }

  /**
   * Sign from now on with another key (a KMS configured or rotated by `apply`): what the old key has
   * not signed yet is checkpointed under it first, then a `key_rotated` record names the new key and
   * the old one, so a downgrade or a swap is visible in the log itself.
   */
  async useSigner(signer: Signer): Promise<void> {
    const key = encodeVerifierKey(signer);
    if (key === this.signerKey) return;
    await this.checkpointing;
    if (this.unsigned > 0) await this.checkpoint();
    const previous = this.signerKey;
    this.signer = signer;
    this.signerKey = key;
    await this.append({ type: 'key_rotated', key, ...(previous ? { previous_key: previous } : {}) });
    this.startCheckpointClock();
  }

  private startCheckpointClock(): void {
    if (this.checkpointTimer) return;
    this.checkpointTimer = setInterval(() => {
      if (this.unsigned > 0) void this.checkpoint();
    }, this.options.checkpointMs ?? 10_000);
    this.checkpointTimer.unref();
  }

  /** Records in the log (acknowledged or pending). */
  get size(): number {
    return this.state.nextSeq;
  }

  /** Records no checkpoint signs yet (after `close`: those the last checkpoint could not sign); 0 without a signer. */
  get unsignedRecords(): number {
    return this.signer ? this.unsigned : 0;
  }

  /** Why the log refuses appends (a write or sync failed, until `resume`), if it does. */
  get failure(): string | undefined {
    return this.failed?.message;
  }

  root(): Hash {
    return this.state.frontier.root();
  }

  /**
   * The latest record time in the log, in ms: the active segment's, or, when it holds no record yet
   * (a segment just rotated), the newest sealed segment's manifest's. Undefined when neither says.
   */
  get latestTimeMs(): number | undefined {
    const t = this.state.segmentMaxTime;
    if (t) return Date.parse(t);
    if (t === null) return undefined;
    const sealed = listSegments(this.dir).filter((name) => name < this.state.segment);
    for (let i = sealed.length - 1; i >= 0; i--) {
      const m = readManifest(this.dir, sealed[i]!);
      if (typeof m !== 'string' && m.count > 0) return m.max_time ? Date.parse(m.max_time) : undefined;
    }
    return undefined;
  }

  /** An id and time for a record about to be appended, from the log's own monotonic clock. */
  stamp(): { id: string; time: string } {
    return this.clock.next();
  }

  /**
   * Sequence a record and resolve once it is durable. The sequencing happens before this returns,
   * so call order is log order.
   */
  append<T extends RecordInput>(input: T): Promise<Appended<T>> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.closed) return Promise.reject(new Error('the audit log is closed'));
    if (this.options.dev) input = { ...input, dev: true };
    const chain = chainOf(input);
    // A record that brings its id (taken when its call was decided) is timed now, as it is sequenced.
    const stamp = input.id === undefined ? this.clock.next() : undefined;
    const assigned = { id: input.id ?? stamp!.id, time: input.time ?? stamp?.time ?? this.clock.time(), ...this.state.sequence(chain) };
    const entry = inKeyOrder(input, assigned) as unknown as Appended<T>;
    const { frame, payload } = encodeTextFrame(canonicalJson(entry));
    // One hash per record: the Merkle leaf hash H(0x00 ‖ record) is also the chain link.
    const leaf = leafHash(payload);
    const leafHex = leaf.toString('hex');
    this.state.advance(chain, entry.lamport_seq, leaf, entry, leafHex);
    // Frames go into the active segment in order, after what is durable and what is queued.
    this.state.last = { segment: this.state.segment, offset: this.state.segmentBytes + this.pendingBytes, leaf: leafHex };
    this.pending.push(frame);
    this.pendingBytes += frame.length;
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.flushing ??= this.flush();
    if (input.type === 'checkpoint') this.snapshotDue = true;
    else {
      this.sinceSnapshot++;
      if (this.signer && ++this.unsigned >= (this.options.checkpointEvery ?? 10_000)) void this.checkpoint();
    }
    if (this.listeners.size === 0) return done.then(() => entry);
    // Waiters wake in log order, so listeners hear records in log order.
    return done.then(() => {
      for (const listen of this.listeners) {
        try {
          listen(entry, payload);
        } catch {
          // A listener's failure is its own: the record is durable and acknowledged regardless.
        }
      }
      return entry;
    });
  }

  /** Hear of each record from now on once it is durable; returns the unsubscribe. */
  onRecord(listener: RecordListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * The log's end as of now, pending records included. Read it in the same synchronous step as the
   * state it describes, then wait for `settled()` before relying on it.
   */
  tip(): LogTip {
    const s = this.state;
    return { seq: s.nextSeq, segment: s.segment, offset: s.segmentBytes + this.pendingBytes, ...(s.last ? { last: s.last } : {}) };
  }

  /** Resolves once every record appended so far is durable (rejects if the log has failed). */
  settled(): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    const waiters = this.pending.length > 0 ? this.waiters : this.syncing;
    if (!waiters) return Promise.resolve();
    return new Promise<void>((resolve, reject) => waiters.push({ resolve, reject }));
  }

  /**
   * Write everything pending in one go, fsync once, then wake every waiter of that batch. A quiet
   * log syncs inline: a threadpool round trip costs more than the fsync itself (measured: 460 µs
   * against 175 µs). A busy one syncs on the threadpool, so the next batch is decided and queued
   * while this one reaches the disk. Busy means either:
   * - `busy()`: a request is known to be on its way. This matters for clients that connect per
   *   request: libuv accepts one connection per loop turn, so an inline sync blocked the next accept
   *   and every batch held one record;
   * - a large batch, while appends keep arriving during threadpool syncs. When every appender is in
   *   the batch being synced (32 appenders, each waiting for its own record), nothing can arrive and
   *   the round trip is pure cost: 24,500 against 34,000 appends/s here. So large batches sync
   *   inline until a probe (one in PROBE_EVERY) sees appends arrive again.
   */
  private async flush(): Promise<void> {
    const maxSegment = this.options.maxSegmentBytes ?? SEGMENT_BYTES;
    try {
      while (this.pending.length > 0) {
        // Let every append already queued (and I/O that arrived meanwhile) join this batch.
        await new Promise<void>((r) => setImmediate(r));
        const batch = Buffer.concat(this.pending);
        const waiters = this.waiters;
        this.pending = [];
        this.pendingBytes = 0;
        this.waiters = [];
        // A full segment is sealed right after an inline sync, when nothing can have queued behind it.
        const large = waiters.length >= PIPELINE_AT && (this.overlapped || ++this.sinceProbe >= PROBE_EVERY);
        const pipelined = (large || this.options.busy?.() === true) && this.state.segmentBytes < maxSegment;
        let snapshot: Snapshot | undefined;
        try {
          const t0 = performance.now();
          this.preallocate(this.state.segmentBytes + batch.length);
          writeAllSync(this.fd, batch, this.state.segmentBytes);
          // Positions count written bytes; durability is what the waiters are told.
          this.state.segmentBytes += batch.length;
          // Captured now, while the state is exactly this batch and what came before: the snapshot
          // must describe the durable log, not appends that arrive during the sync.
          snapshot = this.snapshotDue || this.sinceSnapshot >= (this.options.snapshotEvery ?? 10_000) ? this.takeSnapshot() : undefined;
          if (pipelined) {
            this.syncing = waiters;
            await new Promise<void>((resolve, reject) => fdatasync(this.fd, (e) => (e ? reject(e) : resolve())));
            this.syncing = undefined;
            this.overlapped = this.pending.length > 0;
            this.sinceProbe = 0;
          } else fdatasyncSync(this.fd);
          this.syncMs += performance.now() - t0;
          this.fsyncs++;
        } catch (e) {
          this.syncing = undefined;
          this.fail(e as Error, waiters);
          this.resumable = true;
          this.cutBack();
          return;
        }
        try {
          // Written to a file no longer at its place (its directory removed or renamed, the segment
          // deleted), the batch would vanish at the next open: it is not acknowledged, and the log
          // fails for good (what the file held is gone: only an operator can say what happens next).
          this.checkInPlace();
        } catch (e) {
          this.fail(e as Error, waiters);
          return;
        }
        this.durableBytes = this.state.segmentBytes;
        for (const w of waiters) w.resolve();
        // The batch is durable whatever becomes of the snapshot, an accelerator: one that cannot be
        // written (a full disk, a directory made read-only) is said, and the next checkpoint tries again.
        if (snapshot)
          try {
            writeSnapshot(this.dir, snapshot);
          } catch (e) {
            this.lastSnapshotError = e as Error;
            this.options.warn?.(`audit log: could not write its snapshot (${(e as Error).message}); reopening will read more of the log`);
          }
        if (this.state.segmentBytes >= maxSegment && this.pending.length === 0) this.rotate();
      }
    } finally {
      this.flushing = undefined;
    }
  }

  /**
   * After a failed write or sync: the refused batch may have reached the file all the same (a sync
   * that fails after its write). Its callers were told it was not recorded, so it is cut off now, not
   * only by `resume`: a log closed or killed while failed (a daemon stopped before the disk had room)
   * would otherwise open again with those records, a refused call read back as decided. Best effort:
   * what cannot be cut now is cut by `resume`, and recovery still stops at a torn tail.
   */
  private cutBack(): void {
    try {
      ftruncateSync(this.fd, this.durableBytes);
      this.allocated = this.durableBytes;
      fdatasyncSync(this.fd);
    } catch {
      // The disk refuses even this: `resume` cuts it back before anything else is appended.
    }
  }

  /** Make sure the segment is allocated up to `needed`, a chunk ahead (not past the seal point). */
  private preallocate(needed: number): void {
    if (needed <= this.allocated) return;
    const target = Math.max(needed, Math.min(this.state.segmentBytes + PREALLOCATE, this.options.maxSegmentBytes ?? SEGMENT_BYTES));
    const zeros = Buffer.alloc(target - this.allocated);
    writeAllSync(this.fd, zeros, this.allocated);
    // The batch's fdatasync, right after, makes the new length durable with it.
    this.allocated = target;
  }

  /**
   * Whether the active segment is still at its path. Its presence is checked at every batch; its
   * identity (device and inode) once a second, since a stat of the file just written costs about half
   * an fsync on some filesystems, where access() costs next to nothing.
   */
  private checkInPlace(): void {
    const path = join(this.dir, this.state.segment);
    let moved = !existsSync(path);
    if (!moved && performance.now() >= this.identityDue) {
      this.identityDue = performance.now() + 1000;
      const st = statSync(path, { throwIfNoEntry: false });
      moved = !st || st.dev !== this.segmentFile.dev || st.ino !== this.segmentFile.ino;
    }
    if (moved) throw new Error(`its active segment ${path} was removed or replaced while the log had it open`);
  }

  private takeSnapshot(): Snapshot {
    this.snapshotDue = false;
    this.sinceSnapshot = 0;
    return this.state.toSnapshot();
  }

  private snapshot(): void {
    writeSnapshot(this.dir, this.takeSnapshot());
  }

  private fail(error: Error, waiters: Waiter[]): void {
    this.resumable = this.rotationCut = false;
    this.failed = new Error(`the audit log failed and refuses appends until it is reopened: ${error.message}`);
    for (const w of [...waiters, ...this.waiters]) w.reject(this.failed);
    this.waiters = [];
    this.pending = [];
  }

  /** Seal the current segment with a manifest and start the next one (nothing is pending). */
  private rotate(): void {
    const s = this.state;
    try {
      // A sealed segment is exactly its records: trim the preallocated zeros first.
      ftruncateSync(this.fd, s.segmentBytes);
      fsyncSync(this.fd);
      const bytes = readFileSync(join(this.dir, s.segment));
      writeManifest(this.dir, {
        format: 'faramesh-wal/1',
        segment: s.segment,
        first_seq: s.segmentFirstSeq,
        count: s.nextSeq - s.segmentFirstSeq,
        root: Buffer.from(s.frontier.root()).toString('hex'),
        sha256: sha256hex(bytes),
        bytes: bytes.length,
        ...(s.segmentMaxTime ? { max_time: s.segmentMaxTime } : {}),
      });
      const created = createSegment(this.dir, s.nextSeq);
      // Opened before the old one is closed: a failed open leaves `fd` the sealed segment's, still open.
      const fd = openSync(join(this.dir, created.name), 'r+');
      closeSync(this.fd);
      this.fd = fd;
      const opened = fstatSync(this.fd);
      this.segmentFile = { dev: opened.dev, ino: opened.ino };
      this.allocated = created.headerBytes;
      this.durableBytes = created.headerBytes;
      s.startSegment(created.name, s.nextSeq, created.headerBytes);
    } catch (e) {
      // Every record was acknowledged before the rotation began, and what it wrote is a manifest
      // or a segment header, each whole or absent: once the disk takes writes, `resume` finishes it.
      this.fail(e as Error, []);
      this.resumable = this.rotationCut = true;
    }
  }

  /**
   * After a write or sync of the active segment failed (a full disk, a quota): cut the segment back
   * to its acknowledged records, make that durable, take the log's state from disk as an open does,
   * and go on appending. The failed batches' callers were refused, so none of their records stays:
   * the log holds exactly what was acknowledged. A rotation cut short is finished, as an open would.
   * A failure of another kind (the segment removed under the log) is not undone here. False while
   * the disk still refuses: space for the next records is claimed first, so a log that resumes can
   * take them. Synchronous, so that its caller can rebuild what it keeps from the log before
   * anything else is appended.
   */
  resume(): boolean {
    if (!this.failed) return true;
    // A batch or a checkpoint still settling its failure: the next try will find them done.
    if (!this.resumable || this.closed || this.flushing || this.checkpointing) return false;
    try {
      ftruncateSync(this.fd, this.durableBytes);
      fsyncSync(this.fd);
      const { state } = recover(this.dir, this.signer);
      // A rotation cut short after its seal: recover started the next segment, holding no record yet.
      const sealed = this.rotationCut && state.segment !== this.state.segment && state.segmentFirstSeq === this.state.nextSeq;
      if (sealed ? state.nextSeq !== this.state.nextSeq : state.segment !== this.state.segment || state.segmentBytes !== this.durableBytes)
        throw new Error(`the log on disk ends at ${state.segment}:${state.segmentBytes}, not where it was acknowledged`);
      if (sealed) {
        const fd = openSync(join(this.dir, state.segment), 'r+');
        closeSync(this.fd);
        this.fd = fd;
        this.durableBytes = state.segmentBytes;
      }
      this.state = state;
      this.allocated = this.durableBytes;
      this.preallocate(this.durableBytes + 1);
      fdatasyncSync(this.fd);
    } catch (e) {
      // Said once for each new reason: a disk that stays full is tried again every few seconds.
      const why = (e as Error).message;
      if (why !== this.resumeRefusal) this.options.warn?.(`audit log: cannot resume yet: ${why}`);
      this.resumeRefusal = why;
      return false;
    }
    this.resumeRefusal = undefined;
    const opened = fstatSync(this.fd);
    this.segmentFile = { dev: opened.dev, ino: opened.ino };
    this.unsigned = unsignedIn(this.state);
    this.sinceSnapshot = 0;
    this.snapshotDue = false;
    this.failed = undefined;
    this.resumable = this.rotationCut = false;
    return true;
  }

  /**
   * Sign the current tree head and append it as a checkpoint record. Appends go on while the signer
   * works: the checkpoint signs the tree as it was when it started.
   */
  checkpoint(): Promise<CheckpointRecord | undefined> {
    const { signer, signerKey } = this;
    if (!signer || !signerKey || this.failed) return Promise.resolve(undefined);
    this.checkpointing ??= (async () => {
      const size = this.state.nextSeq;
      const covered = this.unsigned;
      try {
        const note = await signCheckpoint(
          { origin: signer.name, size, root: this.state.frontier.root(), time: new Date((this.options.now ?? Date.now)()).toISOString() },
          signer,
        );
        const record = await this.append({ type: 'checkpoint', size, note, key: signerKey });
        this.unsigned -= covered;
        delete this.lastCheckpointError;
        return record;
      } catch (e) {
        this.lastCheckpointError = e as Error;
        return undefined;
      } finally {
        this.checkpointing = undefined;
      }
    })();
    return this.checkpointing;
  }

  /**
   * Move old sealed segments into an archive file (see `compact.ts`). In order, so that a crash at
   * any point leaves a log that opens and verifies: the archive and the new leaves file are written;
   * a `log_compacted` record naming the new base's SHA-256 is appended (and checkpointed); the base
   * is written; only then are the segments removed (an open finishes that when a crash interrupted it).
   */
  async compact(options: CompactOptions): Promise<CompactResult> {
    if (this.failed) throw this.failed;
    if (this.closed) throw new Error('the audit log is closed');
    if (this.compacting) throw new Error('a compaction of this log is already running');
    const inside = relative(resolve(this.dir), resolve(options.archiveDir));
    if (!inside.startsWith('..') && !isAbsolute(inside))
      throw new Error(`the archive directory ${options.archiveDir} is inside the log directory, which holds the log alone`);
    this.compacting = true;
    try {
      const { segments, base: previous } = liveSegments(this.dir);
      const size = previous?.base.size ?? 0;
      const { plan, held } = planCompaction(this.dir, segments, this.state.segment, options);
      const kept = held !== undefined ? { held } : {};
      if (plan.length === 0) return { records: 0, segments: 0, size, ...kept };
      // The new base is built on the previous one: it must be the base the log recorded, or an
      // edit to it would be carried into a base that a new log_compacted record then vouches for.
      if (previous && !(await this.names(previous.base.size, sha256hex(previous.text))))
        throw new LogCorruptError(
          BASE_FILE,
          0,
          `no log_compacted record names the current base (sha256 ${sha256hex(previous.text)}): it was altered after the compaction; not compacted`,
        );
      const made = await writeCompaction(this.dir, plan, previous?.base, options);
      await this.append({
        type: 'log_compacted',
        size: made.base.size,
        first_seq: made.archive.first_seq,
        base_sha256: sha256hex(made.text),
        archive: made.archive.file,
        archive_sha256: made.archive.sha256,
        ...(options.by !== undefined ? { by: options.by } : {}),
      });
      await this.checkpoint();
      writeDurable(this.dir, BASE_FILE, made.text);
      removeCompacted(
        this.dir,
        plan.map((m) => m.segment),
        previous && previous.base.leaves.file !== leavesName(made.base.size) ? previous.base.leaves.file : undefined,
      );
      return {
        records: made.archive.count,
        segments: plan.length,
        size: made.base.size,
        archive: join(options.archiveDir, made.archive.file),
        ...kept,
      };
    } finally {
      this.compacting = false;
    }
  }

  /**
   * Is there a `log_compacted` record of `size` records naming the base `sha` in the live log? It
   * follows the base closely, so this usually reads a little; a batch at a time, letting appends in between.
   */
  private async names(size: number, sha: string): Promise<boolean> {
    const follower = new LogFollower(this.dir);
    for (let batch = follower.poll(1024); batch.length > 0; batch = follower.poll(1024)) {
      for (const r of batch) if (r.record.type === 'log_compacted' && r.record.size === size && r.record.base_sha256 === sha) return true;
      await new Promise<void>((r) => setImmediate(r));
    }
    return false;
  }

  /** Sign what is unsigned, flush, snapshot, release the directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.checkpointTimer);
    while (this.checkpointing) await this.checkpointing;
    if (this.unsigned > 0) await this.checkpoint();
    this.closed = true;
    while (this.flushing) await this.flushing;
    try {
      if (!this.failed) this.snapshot();
    } finally {
      closeSync(this.fd);
      this.unlock();
    }
  }
}

/**
 * Records a crash (or a run without a signer) left unsigned: the first checkpoint covers them. A
 * checkpoint record follows its tree size, so it is not one of them.
 */
const unsignedIn = (state: SequencerState): number =>
  state.checkpointSize === undefined ? state.nextSeq : Math.max(0, state.nextSeq - state.checkpointSize - 1);

/** Merged key orders of recent input shapes: most records share a handful of shapes. */
const keyOrders: { own: string[]; order: string[] }[] = [];

/**
 * The input plus the assigned fields, built with its keys in canonical order so that encoding it
 * is a plain JSON.stringify. (Never a spread followed by stores: V8 takes ~12 µs for that.)
 */
function inKeyOrder(input: object, assigned: Record<string, unknown>): Record<string, unknown> {
  const own = Object.keys(input);
  let order = keyOrders.find((k) => sameKeys(k.own, own))?.order;
  if (!order) {
    order = [...own];
    for (const key of Object.keys(assigned)) if (!own.includes(key)) order.push(key);
    order.sort();
    if (keyOrders.length >= 16) keyOrders.shift();
    keyOrders.push({ own, order });
  }
  const out: Record<string, unknown> = {};
  for (const key of order) out[key] = Object.hasOwn(assigned, key) ? assigned[key] : (input as Record<string, unknown>)[key];
  return out;
}

const sameKeys = (a: string[], b: string[]): boolean => a.length === b.length && a.every((k, i) => k === b[i]);

function writeAllSync(fd: number, data: Buffer, position: number): void {
  let written = 0;
  while (written < data.length) {
    const n = writeSync(fd, data, written, data.length - written, position + written);
    if (n <= 0) throw new Error('write made no progress');
    written += n;
  }
}
