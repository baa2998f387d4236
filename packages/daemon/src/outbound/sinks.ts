/**
 * Audit sinks: each declared sink reads the log after the daemon has made it durable (never past the
 * last record it heard was durable), from its own position, and ships batches off the host. It is
 * never on the decision path: a sink that is down is DEGRADED in `status` and retried with backoff,
 * and since it reads from the log, not from a queue in memory, it loses nothing: across outages and restarts it resumes where its last
 * delivered batch ended (`.faramesh/state/sinks.json`). A sink new to the stack starts at the end
 * of the log as it is then. A saved position that is not in this log (the log was removed and a new
 * one begun, as `destroy --keep-state` does) ships the new log from its start.
 */
import { leafAt, leafHashHex, LogFollower, readBase, type LogPosition, type LogTip, type StoredRecord } from '@faramesh/audit';
import type { StateSeal } from '../stack/sealed-state.js';
import type { ProviderIR } from '@faramesh/fpl/runtime';
import { deliver } from './deliver.js';
import { isSinkType, sinkFormat, type SinkEvent, type SinkFormat } from './sink-formats.js';

/** Records per delivery. */
const BATCH = 500;
/** Backoff between failed deliveries: doubling from the first, up to the last. */
const RETRY_MS = [500, 60_000] as const;
/** Redacted arguments held for records not yet shipped (only this process's decisions have them). */
const ARGS_HELD = 10_000;

export interface SinkStatus {
  name: string;
  type: string;
  status: 'HEALTHY' | 'DEGRADED';
  shipped: number;
  last_error?: string;
  last_delivery?: string;
}

class SinkWorker {
  status: SinkStatus;
  private follower: LogFollower;
  private held?: StoredRecord[];
  /** Where the held batch was read from (to read a smaller one there instead). */
  private heldFrom?: LogPosition;
  /** Records per delivery: halved while the sink answers 413 (too large), grown back after. */
  private size = BATCH;
  private running?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private failures = 0;
  private stopped = false;

  constructor(
    readonly format: SinkFormat,
    private readonly walDir: string,
    from: LogPosition | undefined,
    private readonly owner: Sinks,
    /** The last record of an object batch whose upload a stop cut short: resent as that very batch. */
    private resendTo?: number,
  ) {
    this.status = { name: format.name, type: format.type, status: 'HEALTHY', shipped: 0 };
    this.follower = new LogFollower(walDir, from);
  }

  /**
   * How many records the next batch may hold: only durable ones (a record written but not yet synced
   * may never be acknowledged, and its place in the log taken by another: AuditLog.resume, or a
   * crash). An object batch cut short is resent with the same records, so the same names.
   */
  private limit(): number {
    const at = this.follower.position()?.seq;
    if (at === undefined) return this.size;
    const durable = Math.min(this.size, this.owner.durableEnd - at);
    if (this.resendTo === undefined || this.resendTo < at) return durable;
    return Math.min(durable, this.resendTo - at + 1);
  }

  /** New records are durable: ship them soon (calls close together make one batch). */
  kick(): void {
    if (this.stopped || this.running || this.timer) return;
    this.schedule(this.format.gatherMs ?? 20);
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.run().finally(() => (this.running = undefined));
    }, ms);
    this.timer.unref();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let batch: StoredRecord[];
      try {
        if (!this.held) this.heldFrom = this.follower.position();
        const limit = this.held ? 0 : this.limit();
        batch = this.held ?? (limit > 0 ? this.follower.poll(limit) : []);
      } catch (e) {
        this.fail(`cannot read the log: ${(e as Error).message}`);
        return;
      }
      if (batch.length === 0) return;
      this.held = batch;
      // Objects are named for the records they hold: a batch whose upload a crash cuts short must be
      // resent as the same records, or the store keeps both objects. Its end is saved first.
      const last = batch[batch.length - 1]!.seq;
      if (this.format.ship && this.resendTo !== last) this.owner.inFlight(this, last);
      this.resendTo = this.format.ship ? last : undefined;
      const events = batch.map((r) => this.owner.event(r));
      const error = await deliver(this.format, events);
      if (error) {
        // Too large for the sink (a body limit, Datadog's 5 MB): the same batch would be refused
        // forever, and every record after it with it. Half as many are read again from the same place.
        if (/^413\b/.test(error) && batch.length > 1) {
          this.size = Math.ceil(batch.length / 2);
          this.follower = new LogFollower(this.walDir, this.heldFrom);
          this.held = undefined;
          this.owner.say(`sink ${this.format.name}: ${error}: sending ${this.size} records at a time`);
          continue;
        }
        this.fail(error);
        return;
      }
      this.held = undefined;
      this.resendTo = undefined;
      this.size = Math.min(BATCH, this.size * 2);
      this.failures = 0;
      // Stopped meanwhile (a drain or hot swap that did not wait for this delivery): the position is
      // not saved, since a newer Sinks may own the file now and an older map would drop its sinks'
      // positions. The batch is shipped again from the saved position (at least once).
      if (this.stopped) return;
      this.status = {
        name: this.format.name,
        type: this.format.type,
        status: 'HEALTHY',
        shipped: this.status.shipped + batch.length,
        last_delivery: new Date().toISOString(),
      };
      this.owner.delivered(this, this.follower.position()!, batch);
    }
  }

  private fail(error: string): void {
    const wait = Math.min(RETRY_MS[0] * 2 ** this.failures++, RETRY_MS[1]);
    this.status = { ...this.status, status: 'DEGRADED', last_error: error };
    this.owner.say(`sink ${this.format.name}: ${error} (retrying in ${Math.round(wait / 1000)} s)`);
    if (!this.stopped) this.schedule(wait);
  }

  /** Ship what is durable, for up to `ms` in all (the daemon is draining), then stop. */
  async stop(ms: number): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.status.status === 'HEALTHY') {
      // The delivery in flight counts against the same `ms`: a slow sink must not hold the drain.
      const finish = (async () => {
        await this.running;
        if (this.stopped) return;
        this.running = this.run().finally(() => (this.running = undefined));
        await this.running;
      })();
      await Promise.race([finish, new Promise((r) => setTimeout(r, ms).unref())]);
    }
    this.stopped = true;
  }
}

/** Configure every sink of a policy without starting any (throws a SettingsError for one that cannot be). */
export function checkSinks(providers: readonly ProviderIR[], env: NodeJS.ProcessEnv): void {
  for (const p of providers) if (isSinkType(p.type)) sinkFormat(p, env);
}

/** Where each sink has shipped up to, in `.faramesh/state/`. */
const CURSORS = 'sinks.json';

/**
 * A sink's position, with the last record it shipped (to recognise the log it was in), and for an
 * object sink the last record of the batch it is uploading.
 */
type Cursor = LogPosition & { last?: { segment: string; offset: number; leaf: string }; inflight?: number };

/** Is a saved position in this log: not past its end, and (when it says) after the very record it shipped last? */
function inLog(walDir: string, c: Cursor, tip: LogTip): boolean {
  if (c.seq > tip.seq) return false;
  if (c === tip || c.seq === 0 || !c.last) return true;
  return leafAt(walDir, c.last.segment, c.last.offset) === c.last.leaf;
}

/**
 * How far each sink has shipped, for compaction: the last record some sink has shipped, and it and
 * every record after it, stay in the live log, where each sink resumes (and recognises its position
 * by that record).
 */
export class ShippedPositions {
  constructor(
    private readonly names: readonly string[],
    private readonly cursors: ReadonlyMap<string, LogPosition>,
  ) {}

  /**
   * The sinks of a stopped daemon's policy, at their saved positions. A sink with none yet holds
   * nothing: it will start at the end of the log as the daemon finds it. One whose saved position is
   * not in this log (the log was replaced) will ship the live log from its start: it holds all of it.
   */
  static saved(providers: readonly ProviderIR[], stateDir: string, seal: StateSeal, walDir: string, tip: LogTip): ShippedPositions {
    const cursors = savedCursors(seal, stateDir);
    const names = providers.filter((p) => isSinkType(p.type) && cursors.has(p.name)).map((p) => p.name);
    const base = names.length > 0 ? readBase(walDir)?.base : undefined;
    const held = new Map<string, LogPosition>();
    for (const name of names) {
      const c = cursors.get(name)!;
      held.set(name, inLog(walDir, c, tip) ? c : { ...c, seq: Math.min(c.seq, base?.size ?? 0) });
    }
    return new ShippedPositions(names, held);
  }

  /** The last record every sink has shipped (undefined without sinks). */
  lastShipped(): number | undefined {
    let min: number | undefined;
    for (const name of this.names) min = Math.min(min ?? Infinity, (this.cursors.get(name)?.seq ?? 0) - 1);
    return min;
  }

  /** The sinks that have shipped only up to `seq` (what keeps the records after it live). */
  shippedOnlyTo(seq: number): string[] {
    return this.names.filter((name) => (this.cursors.get(name)?.seq ?? 0) - 1 <= seq);
  }
}

/** The positions saved by the sinks' last deliveries (sealed: one moved by hand could skip records never shipped). */
function savedCursors(seal: StateSeal, stateDir: string): Map<string, Cursor> {
  const saved = seal.read(stateDir, CURSORS) as { cursors?: Record<string, Cursor> } | undefined;
  return new Map(Object.entries(saved?.cursors ?? {}));
}

export class Sinks {
  private readonly workers: SinkWorker[] = [];
  /** What a record holds only the hashes of: its redacted arguments and the principal's claims. */
  private readonly held = new Map<string, { args: Record<string, unknown>; principal_claims?: Record<string, unknown> }>();
  /** Held arguments are being let go (a backlog past ARGS_HELD): said once, until the backlog drains. */
  private lettingGo = false;
  private readonly cursors: Map<string, Cursor>;
  /** Sinks whose saved position was not in this log, shipping the live log from its start: where that is. */
  private readonly restarted = new Map<string, number>();
  /** The seq after the last record known durable: no sink reads past it. */
  durableEnd: number;

  /** Throws a SettingsError for a sink it cannot configure. */
  constructor(
    providers: readonly ProviderIR[],
    walDir: string,
    private readonly stateDir: string,
    private readonly seal: StateSeal,
    tip: LogTip,
    env: NodeJS.ProcessEnv,
    readonly say: (line: string) => void,
    previous?: Sinks,
  ) {
    // A hot swap: the arguments held for records not yet shipped stay with them.
    if (previous) for (const [id, held] of previous.held) this.held.set(id, held);
    this.durableEnd = tip.seq;
    this.cursors = savedCursors(seal, stateDir);
    let added = false;
    const sinks = providers.filter((x) => isSinkType(x.type));
    const base = sinks.length > 0 ? readBase(walDir)?.base : undefined;
    for (const p of sinks) {
      let from: LogPosition | undefined = this.cursors.get(p.name);
      if (!from) {
        // New to the stack: it starts at the end of the log as it is now, and that is saved at once,
        // or a restart before its first delivery would start it at the end again, skipping the rest.
        this.cursors.set(p.name, (from = tip));
        added = true;
      }
      // A sink left out of the policy for a while holds no records live: a compaction since may have
      // archived its position and what it had yet to ship. It ships on from the live log, and says so.
      if (base && (from.seq < base.size || base.segments.some((m) => m.segment === from!.segment))) {
        say(
          `sink ${p.name}: its saved position (record ${from.seq}) was compacted into archive files in ${base.archive_dir}: ` +
            (from.seq < base.size
              ? `records ${from.seq}–${base.size - 1} are not shipped (audit export --include-archived writes them); `
              : '') +
            `shipping on from record ${base.size}`,
        );
        from = undefined;
      } else if (!inLog(walDir, from, tip)) {
        say(`sink ${p.name}: its saved position is not in this log (the log was replaced): shipping this log from its start`);
        from = undefined;
        // Until it delivers, it holds the live log from its start (its saved seq is another log's).
        this.restarted.set(p.name, Math.min(this.cursors.get(p.name)!.seq, base?.size ?? 0));
      }
      const inflight = from === this.cursors.get(p.name) ? this.cursors.get(p.name)?.inflight : undefined;
      this.workers.push(new SinkWorker(sinkFormat(p, env), walDir, from, this, inflight));
    }
    if (added)
      try {
        this.saveCursors();
      } catch (e) {
        say(`sinks: could not save their starting positions: ${(e as Error).message}`);
      }
  }

  private saveCursors(): void {
    this.seal.write(this.stateDir, CURSORS, { cursors: Object.fromEntries(this.cursors) });
  }

  get active(): boolean {
    return this.workers.length > 0;
  }

  /**
   * A decision's redacted arguments and verified principal claims, shipped with its record (the
   * record itself holds only their hashes: claims may be personal data, kept out of the log).
   */
  holdArgs(recordId: string, args: Record<string, unknown>, principal?: Record<string, unknown>): void {
    if (this.workers.length === 0) return;
    if (this.held.size >= ARGS_HELD) {
      const oldest = this.held.keys().next().value!;
      this.held.delete(oldest);
      // The record still ships, without its arguments: the operator hears it, not only the sink's reader.
      if (!this.lettingGo)
        this.say(`sinks: more than ${ARGS_HELD} records wait to ship: the oldest (from record ${oldest} on) ship without their arguments`);
      this.lettingGo = true;
    } else if (this.held.size < ARGS_HELD / 2) this.lettingGo = false;
    this.held.set(recordId, principal ? { args, principal_claims: principal } : { args });
  }

  /** Records became durable, up to `seq`. */
  kick(seq: number): void {
    this.durableEnd = Math.max(this.durableEnd, seq + 1);
    for (const w of this.workers) w.kick();
  }

  event(r: StoredRecord): SinkEvent {
    const held = this.held.get(String(r.record.id));
    return held ? { ...r.record, ...held } : r.record;
  }

  /** An object batch is about to be uploaded: its end is saved, for a resend after a crash to match it. */
  inFlight(worker: SinkWorker, lastSeq: number): void {
    const cursor = this.cursors.get(worker.format.name);
    if (!cursor) return;
    this.cursors.set(worker.format.name, { ...cursor, inflight: lastSeq });
    try {
      this.saveCursors();
    } catch (e) {
      this.say(`sinks: could not save their positions: ${(e as Error).message}`);
    }
  }

  delivered(worker: SinkWorker, position: LogPosition, batch: StoredRecord[]): void {
    const last = batch[batch.length - 1]!;
    this.restarted.delete(worker.format.name);
    this.cursors.set(worker.format.name, {
      ...position,
      last: { segment: last.segment, offset: last.offset, leaf: leafHashHex(last.payload) },
    });
    // A position that cannot be saved (a full disk) is kept here and saved with the next delivery;
    // a restart before then only ships these records again. It must never end the daemon.
    try {
      this.saveCursors();
    } catch (e) {
      this.say(`sinks: could not save their positions: ${(e as Error).message}`);
    }
    // With several sinks, the arguments stay for the others (the window is bounded either way).
    if (this.workers.length === 1) for (const r of batch) this.held.delete(String(r.record.id));
  }

  /** What the sinks hold live: see `ShippedPositions`. */
  shipping(): ShippedPositions {
    const held = new Map<string, LogPosition>(this.cursors);
    for (const [name, seq] of this.restarted) held.set(name, { ...this.cursors.get(name)!, seq });
    return new ShippedPositions(
      this.workers.map((w) => w.format.name),
      held,
    );
  }

  statuses(): SinkStatus[] {
    return this.workers.map((w) => w.status);
  }

  async stop(ms = 2000): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop(ms)));
  }
}
