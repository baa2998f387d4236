/**
 * Engine state is plain data the daemon owns: rate buckets, budget counters, session facts and
 * selector values. `decide` never mutates it; it returns a delta of absolute new values, so
 * applying a delta twice is harmless and replaying the log's deltas rebuilds the state.
 */
export interface Bucket {
  tokens: number;
  updated_ms: number;
}

export interface BudgetCounter {
  spent_usd: number;
  calls: number;
  /** A session budget's counter: when the session last spent (for `pruneState`'s retention). */
  last_ms?: number;
}

export interface SessionFact {
  started_ms: number;
  last_ms: number;
}

/** A selector's cached value, written by the daemon when it fetches the source. */
export interface SelectorValue {
  value?: unknown;
  /** Set when the last fetch failed: which fallback (`on_unavailable`, `on_timeout`) applies. */
  error?: 'unavailable' | 'timeout';
  fetched_ms: number;
  /** The source fetched: a value another source gave (before a swap changed it) is not this selector's. */
  source?: string;
}

export interface EngineState {
  /** By `agent \u0000 pattern`. */
  buckets: Record<string, Bucket>;
  /** By `agent \u0000 budget id \u0000 period` (a UTC date, or `s:<session id>`). */
  budgets: Record<string, BudgetCounter>;
  /** By `agent \u0000 session id`. */
  sessions: Record<string, SessionFact>;
  /** By `agent \u0000 selector id`. */
  selectors: Record<string, SelectorValue>;
  /** Live children spawned, by agent id (the daemon records each child's end with `spawnEnded`). */
  spawns?: Record<string, number>;
  /** When the current policy was applied: phases are timed from here. */
  policy_applied_ms?: number;
}

export type DeltaOp =
  | ({ kind: 'bucket'; key: string } & Bucket)
  | ({ kind: 'budget'; key: string } & BudgetCounter)
  | ({ kind: 'session'; key: string } & SessionFact)
  | { kind: 'spawn'; key: string; live: number };

/** Read-only: a delta may share structure (the empty delta is one frozen list). */
export type StateDelta = readonly DeltaOp[];

export function emptyState(): EngineState {
  return { buckets: {}, budgets: {}, sessions: {}, selectors: {} };
}

/** Apply a delta in place (the daemon's hot path) and return the state. */
export function applyDelta(state: EngineState, delta: StateDelta): EngineState {
  for (const op of delta) {
    switch (op.kind) {
      case 'bucket':
        state.buckets[op.key] = { tokens: op.tokens, updated_ms: op.updated_ms };
        break;
      case 'budget':
        state.budgets[op.key] =
          op.last_ms === undefined
            ? { spent_usd: op.spent_usd, calls: op.calls }
            : { spent_usd: op.spent_usd, calls: op.calls, last_ms: op.last_ms };
        break;
      case 'session':
        state.sessions[op.key] = { started_ms: op.started_ms, last_ms: op.last_ms };
        break;
      case 'spawn':
        // Defined, not assigned: agent ids are the policy's, and `__proto__` or `constructor` is a name.
        state.spawns = { ...state.spawns, [op.key]: op.live };
        break;
    }
  }
  return state;
}

/**
 * The state's values now for a delta's keys (absent keys as zero): taken before a delta is applied,
 * so its use can be given back; after an await, so the log records what the state holds.
 */
export function valuesOf(state: EngineState, delta: StateDelta): StateDelta {
  return delta.map((op) => valueOf(state, op));
}

/**
 * Give back what a call took when it did not run after all (its credential could not be had):
 * budgets and spawn counts lose what the delta added, and each rate bucket gets back the one token
 * a call takes from it (rate-limit.ts; a refill caps it at the limit). Relative, never a restore:
 * calls decided meanwhile keep their use. Returns the keys' values now, to be recorded.
 */
export function giveBack(state: EngineState, applied: StateDelta, prior: StateDelta): StateDelta {
  const undo = applied.map((op, i): DeltaOp => {
    const now = valueOf(state, op);
    const before = prior[i];
    if (now.kind === 'bucket') return { ...now, tokens: now.tokens + 1 };
    if (now.kind === 'budget' && op.kind === 'budget' && before?.kind === 'budget')
      return {
        ...now,
        spent_usd: Math.max(0, now.spent_usd - (op.spent_usd - before.spent_usd)),
        calls: Math.max(0, now.calls - (op.calls - before.calls)),
      };
    if (now.kind === 'spawn' && op.kind === 'spawn' && before?.kind === 'spawn')
      return { ...now, live: Math.max(0, now.live - (op.live - before.live)) };
    // A session saw the attempt: its facts stay.
    return now;
  });
  applyDelta(state, undo);
  return undo;
}

/** The state's value now for an op's key, as an op of the same kind. */
function valueOf(state: EngineState, op: DeltaOp): DeltaOp {
  const own = <T>(table: Record<string, T> | undefined): T | undefined =>
    table && Object.hasOwn(table, op.key) ? table[op.key] : undefined;
  switch (op.kind) {
    case 'bucket': {
      const b = own(state.buckets);
      return { kind: 'bucket', key: op.key, tokens: b?.tokens ?? 0, updated_ms: b?.updated_ms ?? 0 };
    }
    case 'budget': {
      const b = own(state.budgets);
      const value: DeltaOp = { kind: 'budget', key: op.key, spent_usd: b?.spent_usd ?? 0, calls: b?.calls ?? 0 };
      if (b?.last_ms !== undefined) value.last_ms = b.last_ms;
      return value;
    }
    case 'session': {
      const s = own(state.sessions);
      return { kind: 'session', key: op.key, started_ms: s?.started_ms ?? 0, last_ms: s?.last_ms ?? 0 };
    }
    case 'spawn':
      return { kind: 'spawn', key: op.key, live: liveSpawns(state, op.key) };
  }
}

/** The numeric fields each kind of op carries (all finite, none negative). */
const OP_FIELDS: ReadonlyMap<string, readonly string[]> = new Map([
  ['bucket', ['tokens', 'updated_ms']],
  ['budget', ['spent_usd', 'calls']],
  ['session', ['started_ms', 'last_ms']],
  ['spawn', ['live']],
]);

/**
 * Whether a value read back from the log is a well-formed op. Replay trusts nothing it did not
 * check: a budget counter that came back as a string or NaN would compare false against its limit
 * and let spending through.
 */
export function isDeltaOp(value: unknown): value is DeltaOp {
  if (typeof value !== 'object' || value === null) return false;
  const op = value as Record<string, unknown>;
  const fields = typeof op.kind === 'string' ? OP_FIELDS.get(op.kind) : undefined;
  if (!fields || typeof op.key !== 'string') return false;
  const count = (f: string) => typeof op[f] === 'number' && Number.isFinite(op[f]) && op[f] >= 0;
  if (op.kind === 'budget' && Object.hasOwn(op, 'last_ms') && !count('last_ms')) return false;
  return fields.every((f) => Object.hasOwn(op, f) && count(f));
}

/** The delta that records the end of `count` of `agentId`'s spawned children (never below none live). */
export function spawnEnded(state: EngineState, agentId: string, count = 1): StateDelta {
  return [{ kind: 'spawn', key: agentId, live: Math.max(0, liveSpawns(state, agentId) - count) }];
}

/** How many spawned children of `agentId` are live (own keys only: an agent may be named `constructor`). */
export function liveSpawns(state: EngineState, agentId: string): number {
  const live = state.spawns && Object.hasOwn(state.spawns, agentId) ? state.spawns[agentId] : undefined;
  return typeof live === 'number' ? live : 0;
}

export const key = (...parts: string[]): string => parts.join('\u0000');

/** Where a selector's value is kept in the state: by agent and selector id. */
export const selectorKey = (agent: string, id: string): string => key(agent, id);

/** A day budget's period: its UTC date. */
const DAY_PERIOD = /^\d{4}-\d{2}-\d{2}$/;
/** A rate bucket's window, the last part of its key (rate-limit.ts): `per <s>`, or `<limit>/<s>`. */
const BUCKET_WINDOW = /^(?:per |\d+\/)(\d+(?:\.\d+)?)$/;

/**
 * How long a session unused is remembered: its budget counter and facts go after this long without
 * a call. Session ids are the caller's to choose, so one forgotten and used again gains nothing a
 * new id would not give; kept for ever, they grow the state with every session a daemon ever saw.
 */
export const SESSION_RETENTION_MS = 30 * 86_400_000;

/**
 * How many sessions one agent's state keeps (its session facts, and each session budget's counters):
 * past this, those used least recently go. Retention alone bounds them by time, not by count: an
 * agent naming a new session for every call would grow the state (and its snapshot) by one entry a
 * call for 30 days. As with retention, a session forgotten gains nothing a new id would not give.
 */
export const MAX_SESSIONS_PER_AGENT = 10_000;

/**
 * Drop, in place, what can no longer change a decision, so that a daemon running for months does
 * not keep (and snapshot) every day and session it has seen: budget counters of UTC days before
 * `nowMs`'s (only the current day's are read: budgets, `daily` caps, the completion gate, status;
 * the daemon's clock never runs backward); rate buckets untouched for their whole window, which
 * have refilled to their limit and so decide as a missing (full) bucket does; and sessions unused
 * for `SESSION_RETENTION_MS` (a session counter from before counters kept their time stays), and,
 * of an agent's sessions past `maxSessions`, those used least recently. Returns how many entries went.
 */
export function pruneState(state: EngineState, nowMs: number, maxSessions = MAX_SESSIONS_PER_AGENT): number {
  const today = new Date(nowMs).toISOString().slice(0, 10);
  let dropped = 0;
  for (const k of Object.keys(state.budgets)) {
    const parts = k.split('\u0000');
    const counter = state.budgets[k]!;
    const past = DAY_PERIOD.test(parts[2] ?? '')
      ? parts[2]! < today
      : parts[2]?.startsWith('s:') === true && counter.last_ms !== undefined && nowMs - counter.last_ms >= SESSION_RETENTION_MS;
    if (parts.length === 3 && past) {
      delete state.budgets[k];
      dropped++;
    }
  }
  for (const [k, f] of Object.entries(state.sessions))
    if (nowMs - f.last_ms >= SESSION_RETENTION_MS) {
      delete state.sessions[k];
      dropped++;
    }
  dropped += keepNewest(state.sessions, (k) => k.slice(0, k.indexOf('\u0000')), maxSessions);
  // A session budget's counters, by agent and budget (`agent \u0000 budget \u0000 s:<id>`).
  const sessionCounter = (k: string) => {
    const cut = k.lastIndexOf('\u0000');
    return k.startsWith('s:', cut + 1) ? k.slice(0, cut) : undefined;
  };
  dropped += keepNewest(state.budgets, sessionCounter, maxSessions);
  for (const [k, b] of Object.entries(state.buckets)) {
    const cut = k.lastIndexOf('\u0000');
    const window = BUCKET_WINDOW.exec(k.slice(cut + 1));
    const windowMs = window ? Number(window[1]) * 1000 : NaN;
    // A bucket of an older state keyed without its window (rate-limit.ts legacyBucket) would be read in its place.
    if (!(windowMs > 0) || Object.hasOwn(state.buckets, k.slice(0, cut))) continue;
    if (nowMs - b.updated_ms >= windowMs) {
      delete state.buckets[k];
      dropped++;
    }
  }
  return dropped;
}

/**
 * Forget, in place, sessions that can make no more calls (`dead`: an MCP session that closed; its id
 * was the daemon's own and is never used again): their session budget counters and session facts.
 * Returns how many entries went.
 */
export function dropSessions(state: EngineState, dead: (sessionId: string) => boolean): number {
  let dropped = 0;
  for (const k of Object.keys(state.budgets)) {
    const period = k.split('\u0000')[2];
    if (period?.startsWith('s:') && dead(period.slice(2))) {
      delete state.budgets[k];
      dropped++;
    }
  }
  for (const k of Object.keys(state.sessions)) {
    const id = k.slice(k.indexOf('\u0000') + 1);
    if (dead(id)) {
      delete state.sessions[k];
      dropped++;
    }
  }
  return dropped;
}

/**
 * Drop, in place, the entries of `table` used least recently (by `last_ms`; an entry without it
 * first) in each group (`groupOf`; undefined: not counted) past `max`. Returns how many went.
 */
function keepNewest(table: Record<string, { last_ms?: number }>, groupOf: (k: string) => string | undefined, max: number): number {
  const groups = new Map<string, string[]>();
  for (const k of Object.keys(table)) {
    const g = groupOf(k);
    if (g === undefined) continue;
    const keys = groups.get(g);
    if (keys) keys.push(k);
    else groups.set(g, [k]);
  }
  let dropped = 0;
  for (const keys of groups.values()) {
    if (keys.length <= max) continue;
    keys.sort((a, b) => (table[a]!.last_ms ?? 0) - (table[b]!.last_ms ?? 0));
    for (const k of keys.slice(0, keys.length - max)) {
      delete table[k];
      dropped++;
    }
  }
  return dropped;
}
