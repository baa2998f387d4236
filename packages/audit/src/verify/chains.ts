/**
 * Per-chain link checking with blame. A broken link (record j's `prev_hash` is not the leaf hash of
 * the chain's previous record p) has three explanations, told apart by what comes next:
 *
 * - p was altered: j is intact, so j's own successor still links to j;
 * - j's `prev_hash` was altered: j's hash changed too, so j's successor breaks as well;
 * - the record between p and j was moved to another chain (its `agent_id` changed) or removed:
 *   a record elsewhere carries p's hash as its `prev_hash`, or the sequence shows a gap;
 * - j is a copy of p (its hash is p's): the copy is to blame, not p.
 *
 * A link still open at the end (j was the chain's last record) is blamed on p; the checkpoints
 * cover that case independently.
 */
import { GENESIS_HASH } from '../record.js';

export interface Loc {
  seq: number;
  id?: string;
  segment: string;
  offset: number;
}

export interface Blame {
  at: Loc;
  field: string;
  reason: string;
}

interface Tip {
  loc: Loc;
  hash: string;
  lamport: number;
}

interface Suspect {
  at: Tip;
  pred?: Tip;
  chain: string;
}

export class ChainChecker {
  private readonly tips = new Map<string, Tip>();
  private readonly open = new Map<string, Suspect>();
  /** Records whose incoming link broke, by the prev_hash they carry: a moved record is found here. */
  private readonly strays = new Map<string, Loc>();
  /** Sequence ranges [from, to) found missing. */
  private readonly gaps: [number, number][] = [];
  readonly blames: Blame[] = [];

  get chains(): number {
    return this.tips.size;
  }

  gap(from: number, to: number): void {
    this.gaps.push([from, to]);
  }

  /** Check record `loc` of `chain` and make it the chain's tip. */
  check(loc: Loc, chain: string, lamport: unknown, prevHash: unknown, hash: string): void {
    const tip = this.tips.get(chain);
    const expectedLamport = (tip?.lamport ?? -1) + 1;
    if (lamport !== expectedLamport)
      this.blame(loc, 'lamport_seq', `expected ${expectedLamport} for ${label(chain)}, found ${String(lamport)}`);
    const suspect = this.open.size > 0 ? this.open.get(chain) : undefined;
    if (suspect) {
      this.open.delete(chain);
      if (prevHash === suspect.at.hash) this.blameMissingLink(suspect);
      else
        this.blame(
          suspect.at.loc,
          'prev_hash',
          `does not link to the previous record of ${label(chain)} (seq ${suspect.pred?.loc.seq ?? 'none'})`,
        );
    }
    const expectedPrev = tip?.hash ?? GENESIS_HASH;
    const brokenIn = prevHash !== expectedPrev;
    const self: Tip = { loc, hash, lamport: typeof lamport === 'number' ? lamport : expectedLamport };
    if (brokenIn) {
      this.open.set(chain, { at: self, ...(tip ? { pred: tip } : {}), chain });
      if (typeof prevHash === 'string' && !this.strays.has(prevHash)) this.strays.set(prevHash, loc);
    }
    this.tips.set(chain, self);
  }

  /** Has a record of `chain` been checked (or the chain seeded)? */
  has(chain: string): boolean {
    return this.tips.has(chain);
  }

  /** No broken link is waiting for its chain's next record to tell who is to blame. */
  get settled(): boolean {
    return this.open.size === 0;
  }

  /** Would the chain's next record, with this lamport_seq and prev_hash, link cleanly? */
  links(chain: string, lamport: number, prevHash: string): boolean {
    const tip = this.tips.get(chain);
    return lamport === (tip?.lamport ?? -1) + 1 && prevHash === (tip?.hash ?? GENESIS_HASH);
  }

  /**
   * Start a chain at `loc`, a record whose predecessor lies outside what is checked (an evidence
   * bundle starts in the middle of the log). Its prev_hash is kept among the strays: a record that
   * links to one inside what is checked was moved there from another chain.
   */
  seed(chain: string, loc: Loc, prevHash: string, lamport: number): void {
    this.tips.set(chain, { loc, hash: prevHash, lamport: lamport - 1 });
    if (!this.strays.has(prevHash)) this.strays.set(prevHash, loc);
  }

  /** Make `loc` the chain's tip, after a run of records that all linked cleanly. */
  advance(chain: string, loc: Loc, hash: string, lamport: number): void {
    this.tips.set(chain, { loc, hash, lamport });
  }

  /** Resolve what is still open once the log has been read. */
  finish(): Blame[] {
    for (const suspect of this.open.values()) this.blameMissingLink(suspect, true);
    this.open.clear();
    return this.blames;
  }

  /** j (suspect.at) is intact, so the record j followed is gone from its place: altered, moved or removed. */
  private blameMissingLink(s: Suspect, atEnd = false): void {
    const predHash = s.pred?.hash ?? GENESIS_HASH;
    const moved = this.strays.get(predHash);
    if (moved && moved.seq !== s.at.loc.seq) {
      this.blame(
        moved,
        'agent_id',
        `the record belongs after seq ${s.pred?.loc.seq ?? 'the start'} of ${label(s.chain)} (its prev_hash links there)`,
      );
      return;
    }
    if (s.pred && this.gaps.some(([from, to]) => from > s.pred!.loc.seq && from <= s.at.loc.seq && to > from)) return; // the gap is reported already
    if (!s.pred) {
      this.blame(s.at.loc, 'prev_hash', `the first record of ${label(s.chain)} must link to the genesis hash`);
      return;
    }
    // j hashes exactly as p does: j is a second copy of p (a replayed or duplicated write), and p,
    // the original, is intact; blaming p would send the investigation to the wrong record.
    if (s.at.hash === s.pred.hash) {
      this.blame(s.at.loc, 'duplicate', `the record is a copy of seq ${s.pred.loc.seq}: it was written into the log a second time`);
      return;
    }
    this.blame(
      s.pred.loc,
      'content',
      `the record no longer hashes to the prev_hash that seq ${s.at.loc.seq} holds: it was altered after it was written` +
        (atEnd ? ` (or seq ${s.at.loc.seq}'s prev_hash was)` : ''),
    );
  }

  private blame(at: Loc, field: string, reason: string): void {
    this.blames.push({ at, field, reason });
  }
}

const label = (chain: string) => (chain ? `agent '${chain}'` : "the stack's chain");
