/**
 * Approvals: a deferred call waits here for an operator. An approval binds the exact call — agent,
 * tool and canonical arguments — and resolves it once: after `approve` the next identical call is
 * permitted and the approval is spent; after `deny` the next identical call is denied with the
 * operator's reason, then spent. A pending approval expires after `approval_ttl`.
 *
 * The book is plain data plus the clock it is given; the daemon persists it (`toJSON`) before it
 * replies to any call that changed it, so an approval is never used twice, even across a crash.
 * An agent may keep only so much waiting (`PENDING_LIMIT`): every deferral rewrites the book, and an
 * agent deferring without end would otherwise fill the disk and stall the daemon for every agent.
 */
import { createHash, randomBytes } from 'node:crypto';
import { canonicalJson } from '@faramesh/protocol';

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired';

export interface Approval {
  id: string;
  status: ApprovalStatus;
  agent_id: string;
  tool: string;
  /** Arguments with redacted paths masked: what the operator is shown. */
  args: Record<string, unknown>;
  /** Which call this is: a hash of agent, tool and the full canonical arguments (never stored in the log). */
  binding: string;
  /** The deferred decision's action id. */
  action_id: string;
  rule_ref?: string;
  reason?: string;
  deferred_at: string;
  expires_at: string;
  resolved_at?: string;
  resolved_by?: string;
  /** The operator's reason. */
  resolution_reason?: string;
  /** Set once the agent's identical call has run (approved) or been refused (denied). */
  used_at?: string;
  /** The arguments were dropped from the book, an hour after it was done with (the record remains). */
  args_dropped?: true;
  /**
   * An operator's outcome that lapsed unused: no identical call came before `expires_at`. The status
   * is then `expired`, and `resolved_by`, `resolved_at` and `resolution_reason` stay the operator's.
   */
  lapsed?: 'approved' | 'denied';
  /**
   * Expired, and its `approval_resolved` record not yet known to be in the log: the book may be saved
   * (by any later change) before the expiry is recorded, so a restart records it then.
   */
  expiry_unrecorded?: true;
  /**
   * Deferred under the top-level rules: the agent has no block of its own, so its id is only what the
   * caller said. Every such approval counts against one shared allowance, or a caller naming a new
   * agent for each call would never meet `PENDING_LIMIT`.
   */
  top_level?: true;
  /**
   * What the call costs in dollars, when anything (declared, priced from its model usage, or the
   * policy's `cost` for the tool): the approval binds it, so the operator is shown the price approved.
   */
  cost_usd?: number;
  /**
   * Resolved by an operator, and its `approval_resolved` record not yet known to be in the log: the
   * book is saved before the record is written, so a crash between the two leaves a resolution the
   * log lacks. The next start records it before any call can run under it.
   */
  resolution_unrecorded?: true;
}

/** The exact call an approval is for: the agent, the tool, the arguments and, when it declares one, its cost. */
export const bindingOf = (agent: string, tool: string, args: unknown, cost?: object): string =>
  createHash('sha256')
    .update(canonicalJson(cost === undefined ? [agent, tool, args ?? {}] : [agent, tool, args ?? {}, cost]))
    .digest('hex');

/** What one agent may keep waiting at once: approvals, and bytes of their arguments. */
export const PENDING_LIMIT = { count: 100, bytes: 8 << 20 };

/** A deferral the book would not take: the agent has too much waiting already. */
export interface Refused {
  refused: string;
  /** The agent's waiting approvals, oldest first (resolving them makes room). */
  waiting: string[];
}

/** The allowance that agents without a block of their own share (no agent id can be this key). */
const TOP_LEVEL = Symbol('top-level rules');
const allowanceOf = (a: Pick<Approval, 'agent_id' | 'top_level'>): string | symbol => (a.top_level ? TOP_LEVEL : a.agent_id);

/** Unguessable ids: an agent cannot poll or name another agent's approval by counting. */
const newId = () => `apr-${randomBytes(12).toString('base64url')}`;

export class ApprovalBook {
  private readonly byId = new Map<string, Approval>();
  /** The approvals of each exact call: a deferral looks at its own call's, not at the whole book. */
  private readonly byBinding = new Map<string, Approval[]>();
  /** Each allowance's pending approvals (an agent's, or the top-level rules'), with the size of their arguments. */
  private readonly pendingOf = new Map<string | symbol, Map<Approval, number>>();
  private newlyExpired: Approval[] = [];

  constructor(
    /** `runtime { approval_ttl }`: new deferrals wait this long (a hot swap may change it). */
    public ttlMs: number,
    approvals: Approval[] = [],
  ) {
    for (const a of approvals) {
      this.add(a);
      // Saved expired before its record was made (a stop or a crash came first): it is recorded now.
      if (a.expiry_unrecorded) this.newlyExpired.push(a);
    }
  }

  /** `size`: the canonical length of its arguments, when the caller has it already. */
  private add(a: Approval, size?: number): void {
    this.byId.set(a.id, a);
    const same = this.byBinding.get(a.binding);
    if (same) same.push(a);
    else this.byBinding.set(a.binding, [a]);
    if (a.status !== 'pending') return;
    let mine = this.pendingOf.get(allowanceOf(a));
    if (!mine) this.pendingOf.set(allowanceOf(a), (mine = new Map()));
    mine.set(a, size ?? canonicalJson(a.args).length);
  }

  /** No longer pending (resolved or expired). */
  private settle(a: Approval): void {
    const mine = this.pendingOf.get(allowanceOf(a));
    if (mine?.delete(a) && mine.size === 0) this.pendingOf.delete(allowanceOf(a));
  }

  get(id: string, nowMs: number): Approval | undefined {
    const a = this.byId.get(id);
    if (a) this.expire(a, nowMs);
    return a;
  }

  list(nowMs: number): Approval[] {
    for (const a of this.byId.values()) this.expire(a, nowMs);
    return [...this.byId.values()];
  }

  /**
   * The resolved, unspent approval for this exact call, if any; of several, the one resolved last. An
   * approval kept for a retry (its call's credential failed) can meet a newer one for the same call,
   * deferred while the first was running: the operator's later word is the one that holds.
   */
  resolvedFor(binding: string, nowMs: number): Approval | undefined {
    let newest: Approval | undefined;
    for (const a of this.unspent(binding, nowMs)) if (!newest || a.resolved_at! >= newest.resolved_at!) newest = a;
    return newest;
  }

  private unspent(binding: string, nowMs: number): Approval[] {
    return (this.byBinding.get(binding) ?? []).filter(
      (a) => a.binding === binding && !a.used_at && (a.status === 'approved' || a.status === 'denied') && !this.expire(a, nowMs),
    );
  }

  /** The pending approval for this exact call, or a new one; refused when the agent has too much waiting. */
  defer(
    call: Omit<Approval, 'id' | 'status' | 'deferred_at' | 'expires_at'>,
    nowMs: number,
  ): { approval: Approval; created: boolean } | Refused {
    for (const a of this.byBinding.get(call.binding) ?? [])
      if (a.status === 'pending' && !this.expire(a, nowMs)) return { approval: a, created: false };
    const size = canonicalJson(call.args).length;
    const full = this.full(call, size, nowMs);
    if (full) return full;
    const approval: Approval = {
      ...call,
      id: newId(),
      status: 'pending',
      deferred_at: new Date(nowMs).toISOString(),
      expires_at: new Date(nowMs + this.ttlMs).toISOString(),
    };
    this.add(approval, size);
    return { approval, created: true };
  }

  /** Why one more deferral of `bytes` of arguments would be too much for this call's allowance, if it would. */
  private full(call: Pick<Approval, 'agent_id' | 'top_level'>, bytes: number, nowMs: number): Refused | undefined {
    const mine = this.pendingOf.get(allowanceOf(call)) ?? new Map<Approval, number>();
    for (const a of [...mine.keys()]) this.expire(a, nowMs);
    let held = bytes;
    for (const size of mine.values()) held += size;
    // Only the caller's own are named: a shared allowance holds other agents' approvals too.
    const waiting = [...mine.keys()].filter((a) => a.agent_id === call.agent_id).map((a) => a.id);
    const whose = call.top_level ? 'agents without a block of their own share one allowance: ' : '';
    if (mine.size >= PENDING_LIMIT.count) return { refused: `${whose}${mine.size} approvals are already waiting`, waiting };
    if (held > PENDING_LIMIT.bytes)
      return {
        refused: `${whose}with this one, ${call.top_level ? 'the' : 'its'} approvals waiting would hold more than ${PENDING_LIMIT.bytes} bytes of arguments`,
        waiting,
      };
    return undefined;
  }

  /** An operator's decision. Only a pending approval can be resolved. */
  resolve(id: string, outcome: 'approved' | 'denied', by: string, reason: string | undefined, nowMs: number): Approval {
    const a = this.get(id, nowMs);
    if (!a) throw new ApprovalError('not_found', `no approval ${id}`);
    if (a.status !== 'pending') throw new ApprovalError('not_pending', `approval ${id} is already ${a.status}`);
    a.status = outcome;
    this.settle(a);
    a.resolved_at = new Date(nowMs).toISOString();
    // The resolution stands for one ttl too: an approval left unspent does not permit the call months later.
    a.expires_at = new Date(nowMs + this.ttlMs).toISOString();
    a.resolved_by = by;
    if (reason) a.resolution_reason = reason;
    a.resolution_unrecorded = true;
    return a;
  }

  /** The operator's resolution of `a` is in the log: the next save of the book says so. */
  resolutionRecorded(a: Approval): void {
    delete a.resolution_unrecorded;
  }

  /** Resolutions saved in the book but not known to be in the log (a crash came between). */
  unrecordedResolutions(): Approval[] {
    return [...this.byId.values()].filter((a) => a.resolution_unrecorded);
  }

  /** Take back `resolve`: `before` is a copy of the approval as it was (the book could not be saved). */
  unresolve(before: Approval): void {
    const a = this.byId.get(before.id);
    if (!a) return;
    for (const k of Object.keys(a) as (keyof Approval)[]) delete a[k];
    Object.assign(a, before);
    if (a.status === 'pending') {
      let mine = this.pendingOf.get(allowanceOf(a));
      if (!mine) this.pendingOf.set(allowanceOf(a), (mine = new Map()));
      mine.set(a, canonicalJson(a.args).length);
    }
  }

  /**
   * Spend `a` on its call, and with it any older resolution of the same call left unspent: the
   * operator's newer word replaced it (a deny after an approval kept for a retry is not followed by
   * that approval). Returns what was spent, for `unspend`.
   */
  spend(a: Approval, nowMs: number): Approval[] {
    const spent = [a, ...this.unspent(a.binding, nowMs).filter((b) => b !== a)];
    for (const b of spent) b.used_at = new Date(nowMs).toISOString();
    return spent;
  }

  /** Take back `spend`: the call it was spent on was refused after all (the book could not be saved). */
  unspend(spent: readonly Approval[]): void {
    for (const a of spent) delete a.used_at;
  }

  /** Take back an approval `defer` just created: its call was refused after all. */
  withdraw(a: Approval): void {
    this.settle(a);
    this.forget(a);
  }

  private forget(a: Approval): void {
    this.byId.delete(a.id);
    const rest = this.byBinding.get(a.binding)?.filter((b) => b !== a) ?? [];
    if (rest.length > 0) this.byBinding.set(a.binding, rest);
    else this.byBinding.delete(a.binding);
  }

  /** Approvals that expired since the last call (each reported once), looking at every pending one. */
  takeExpired(nowMs: number): Approval[] {
    for (const a of this.byId.values()) this.expire(a, nowMs);
    const expired = this.newlyExpired;
    this.newlyExpired = [];
    return expired;
  }

  /** Expiries `takeExpired` handed out whose records could not be written: the next call hands them out again. */
  notRecorded(expired: readonly Approval[]): void {
    this.newlyExpired.push(...expired);
  }

  /** The expiry of `a` is in the log: the next save of the book says so. */
  recorded(a: Approval): void {
    delete a.expiry_unrecorded;
  }

  /**
   * Forget approvals done with (used, or expired) more than `keepMs` ago, and the arguments of those
   * done with more than `argsMs` ago: only pending approvals are bounded by PENDING_LIMIT, so without
   * this an agent deferring large calls all day would grow the book the daemon rewrites on every
   * deferral.
   */
  prune(nowMs: number, keepMs: number, argsMs = keepMs): void {
    for (const a of this.byId.values()) {
      const done = a.used_at ?? (a.status === 'expired' ? a.expires_at : undefined);
      if (!done) continue;
      if (Date.parse(done) < nowMs - argsMs && !a.args_dropped) {
        a.args = {};
        a.args_dropped = true;
      }
      if (Date.parse(done) >= nowMs - keepMs) continue;
      this.forget(a);
    }
  }

  toJSON(): Approval[] {
    return [...this.byId.values()];
  }

  private expire(a: Approval, nowMs: number): boolean {
    const open = a.status === 'pending' || ((a.status === 'approved' || a.status === 'denied') && !a.used_at);
    if (open && Date.parse(a.expires_at) <= nowMs) {
      this.settle(a);
      // Who decided stays in the book: only an approval nobody resolved expired "by ttl".
      if (a.status === 'approved' || a.status === 'denied') a.lapsed = a.status;
      else {
        a.resolved_at = a.expires_at;
        a.resolved_by = 'ttl';
      }
      a.status = 'expired';
      a.expiry_unrecorded = true;
      this.newlyExpired.push(a);
    }
    return a.status === 'expired';
  }
}

export class ApprovalError extends Error {
  override name = 'ApprovalError';
  constructor(
    readonly kind: 'not_found' | 'not_pending',
    message: string,
  ) {
    super(message);
  }
}
