/**
 * The recent records, for `faramesh audit tail` through the daemon (the operator socket or an
 * operator token over HTTP): a ring of the last records made durable, and long polls that wait
 * for the next ones. The log files stay the authority; this is a window onto their end, which is
 * also the only view of a `faramesh dev` log from outside the daemon.
 */
import type { Appended } from '@faramesh/audit';
import { daemonNow } from './clock.js';

/** Records kept for a tail that starts from the daemon. */
export const FEED_RECORDS = 10_000;
/** The longest a tail poll waits for a new record. */
export const MAX_WAIT_MS = 25_000;

export interface TailFilter {
  agent?: string;
  tool?: string;
  effect?: 'permit' | 'defer' | 'deny';
}

export interface TailQuery extends TailFilter {
  /** Records with seq ≥ this; absent: the last `limit` matching records held. */
  after?: number;
  limit?: number;
  /** Wait up to this long when nothing matches yet (capped at MAX_WAIT_MS). */
  wait_ms?: number;
}

export interface TailPage {
  /** Each record's canonical JSON, as stored. */
  records: string[];
  /** Pass as `after` to continue. */
  next: number;
  /** Records between `after` and the oldest held had already left the window. */
  skipped?: number;
}

/** What a tail filters on, and the stored bytes (not the parsed record: the window stays small). */
interface Held {
  seq: number;
  agent: string | undefined;
  tool: string | undefined;
  effect: string | undefined;
  json: string;
}

export class RecordFeed {
  private readonly ring: (Held | undefined)[];
  private start = 0;
  private count = 0;
  /** The seq the next record will have, once it is heard. */
  private nextSeq: number;
  private readonly waiters = new Set<() => void>();
  private closed = false;

  constructor(
    firstSeq: number,
    private readonly capacity = FEED_RECORDS,
  ) {
    this.ring = new Array<Held | undefined>(capacity);
    this.nextSeq = firstSeq;
  }

  /** The seq after the last record heard: every record before it is durable. */
  get heard(): number {
    return this.nextSeq;
  }

  push(record: Appended, payload: Buffer): void {
    const r = record as Appended & { tool?: string; effect?: string };
    const held: Held = {
      seq: r.seq,
      agent: r.agent_id,
      tool: r.tool,
      effect: r.type === 'decision' ? r.effect : undefined,
      json: payload.toString('utf8'),
    };
    if (this.count < this.capacity) this.ring[(this.start + this.count++) % this.capacity] = held;
    else {
      this.ring[this.start] = held;
      this.start = (this.start + 1) % this.capacity;
    }
    this.nextSeq = record.seq + 1;
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }

  /** Wake every waiting poll (the daemon is draining). */
  close(): void {
    this.closed = true;
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }

  async tail(q: TailQuery): Promise<TailPage> {
    const limit = Math.min(Math.max(q.limit ?? 1000, 1), FEED_RECORDS);
    let page = this.read(q, limit);
    const wait = Math.min(q.wait_ms ?? 0, MAX_WAIT_MS);
    if (page.records.length > 0 || wait <= 0 || this.closed || q.after === undefined) return page;
    const deadline = daemonNow() + wait;
    while (page.records.length === 0 && !this.closed && daemonNow() < deadline) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          resolve();
        };
        // A poll that times out leaves no waiter behind (an idle daemon with a tail open would gather them).
        const timer = setTimeout(() => {
          this.waiters.delete(wake);
          resolve();
        }, deadline - daemonNow());
        this.waiters.add(wake);
      });
      page = this.read({ ...q, after: page.next }, limit);
    }
    return page;
  }

  private read(q: TailQuery, limit: number): TailPage {
    const held: Held[] = [];
    for (let i = 0; i < this.count; i++) held.push(this.ring[(this.start + i) % this.capacity]!);
    const oldest = held[0]?.seq ?? this.nextSeq;
    if (q.after === undefined) {
      const matched = held.filter((h) => matches(h, q));
      return { records: matched.slice(-limit).map((h) => h.json), next: this.nextSeq };
    }
    const out: string[] = [];
    let next = Math.max(q.after, oldest);
    for (const h of held) {
      if (h.seq < q.after) continue;
      if (out.length >= limit) break;
      next = h.seq + 1;
      if (matches(h, q)) out.push(h.json);
    }
    if (out.length < limit) next = Math.max(next, this.nextSeq);
    return { records: out, next, ...(q.after < oldest ? { skipped: oldest - q.after } : {}) };
  }
}

function matches(h: Held, f: TailFilter): boolean {
  return (
    (f.agent === undefined || h.agent === f.agent) &&
    (f.tool === undefined || h.tool === f.tool) &&
    (f.effect === undefined || h.effect === f.effect)
  );
}
