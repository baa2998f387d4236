import type { BudgetIR } from '@faramesh/fpl/runtime';
import type { DecisionRequest, DecisionSignal } from '@faramesh/protocol';
import type { BudgetCounter, DeltaOp, EngineState } from '../state.js';
import { key } from '../state.js';
import { priceUsage } from './pricing.js';

const STRICTNESS: Record<BudgetIR['on_exceed'], number> = { audit: 0, defer: 1, deny: 2 };

export interface BudgetResult {
  /** The budget this call would exceed whose `on_exceed` is strictest (deny, then defer, then audit); the first of those. */
  exceeded?: { budget: BudgetIR; resetsAt?: string; message: string };
  signals: DecisionSignal[];
  delta: DeltaOp[];
}

/**
 * The call's dollar cost: what it reports (its own `cost_usd`, else its model usage at bundled
 * prices), but never less than the policy's declared cost for the tool. The agent is not trusted:
 * a call reporting $0.000001 for a tool the policy prices at $10 would otherwise spend nothing.
 */
export function callCost(request: DecisionRequest, declared = 0): number {
  const u = request.usage;
  const reported =
    typeof request.cost_usd === 'number' && Number.isFinite(request.cost_usd) && request.cost_usd > 0
      ? request.cost_usd
      : (u && priceUsage(u.model ?? request.model, u.input_tokens, u.output_tokens)) || 0;
  return Math.max(reported, declared);
}

const usd = (n: number) => `$${n.toFixed(2)}`;
/** Calls are whole numbers, compared exactly (a relative slack would let `max_calls 3000000000` pass three more). */
const calls = (n: number) => `${n} calls`;

/**
 * Dollar sums are binary floating point: $0.10 three times is 0.30000000000000004, over a $0.30
 * ceiling. Counters are compared with a nano-dollar's slack (relative, for large amounts), so
 * a spend that adds up to a ceiling in decimal fits it.
 */
const slack = (n: number) => 1e-9 * Math.max(1, Math.abs(n));
const over = (value: number, limit: number) => value - limit > slack(limit);
const reaches = (value: number, threshold: number) => threshold - value <= slack(threshold);

/**
 * A counter plus a cost, kept finite: `cost_usd` may be any finite number, and two near
 * Number.MAX_VALUE sum to Infinity, which no log record can hold (JSON has no Infinity) and which
 * replay would drop. The counter stays at the largest number instead: over every ceiling.
 */
const spend = (spent: number, cost: number): number => Math.min(Number.MAX_VALUE, spent + cost);

/** UTC date and the next UTC midnight. */
function day(nowMs: number): { period: string; resetsAt: string } {
  const d = new Date(nowMs);
  const next = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
  return { period: d.toISOString().slice(0, 10), resetsAt: new Date(next).toISOString().replace('.000Z', 'Z') };
}

/**
 * Every budget of the agent, for a call that would be permitted. `session` budgets count per
 * session id, all others per UTC day; `daily` is a second, per-day dollar cap on any budget.
 */
export function checkBudgets(
  agentId: string,
  budgets: readonly BudgetIR[],
  request: DecisionRequest,
  state: EngineState,
  nowMs: number,
  declaredCost?: number,
): BudgetResult {
  const result: BudgetResult = { signals: [], delta: [] };
  if (budgets.length === 0) return result;
  const cost = callCost(request, declaredCost);
  const today = day(nowMs);
  for (const budget of budgets) {
    const period = budget.window === 'session' ? `s:${request.session_id ?? '-'}` : today.period;
    const k = key(agentId, budget.id, period);
    const counter = state.budgets[k] ?? { spent_usd: 0, calls: 0 };
    const next: BudgetCounter = { spent_usd: spend(counter.spent_usd, cost), calls: counter.calls + 1 };
    // A session's counter keeps when it last spent: pruneState forgets sessions long unused.
    if (budget.window === 'session') next.last_ms = nowMs;
    // `daily`: the meter is the day's (its ceiling resets at the next UTC midnight), whatever the budget's own window.
    const checks: [limit: number | undefined, before: number, after: number, what: (n: number) => string, daily: boolean][] = [
      [budget.max, counter.spent_usd, next.spent_usd, usd, budget.window === 'day'],
      [budget.max_calls, counter.calls, next.calls, calls, budget.window === 'day'],
    ];
    // An explicit daily cap on a budget whose own window is not the day.
    let dailyKey: string | undefined;
    let dailyNext: { spent_usd: number; calls: number } | undefined;
    if (budget.daily !== undefined) {
      if (budget.window === 'day') checks.push([budget.daily, counter.spent_usd, next.spent_usd, usd, true]);
      else {
        dailyKey = key(agentId, budget.id, today.period);
        const d = state.budgets[dailyKey] ?? { spent_usd: 0, calls: 0 };
        dailyNext = { spent_usd: spend(d.spent_usd, cost), calls: d.calls + 1 };
        checks.push([budget.daily, d.spent_usd, dailyNext.spent_usd, usd, true]);
      }
    }
    for (const [limit, before, after, what, daily] of checks) {
      if (limit === undefined) continue;
      if (what === calls ? after > limit : over(after, limit)) {
        // A session's own ceiling never resets at midnight, even when its `daily` cap is the same amount.
        const resetsAt = daily ? today.resetsAt : undefined;
        // A dollar ceiling not reached yet refuses the call because its cost would pass it: say so,
        // with the cost, or "reached" contradicts the spend status shows (and a cheaper call fits).
        const message =
          what !== calls && !reaches(before, limit)
            ? `${budget.id} budget ceiling (${what(limit)}) would be exceeded by this call's ${what(cost)}: ${what(before)} used`
            : `${budget.id} budget ceiling (${what(limit)}) reached: ${what(before)} used`;
        // Every exceeded budget's on_exceed applies, so the strictest decides: a budget that denies is
        // never passed over for one that only defers or audits (an approval lifts a defer, not a deny).
        // Of equally strict ones, one that never resets (a session's own ceiling) is named: a resets_at
        // would promise a retry after midnight that it still refuses.
        const was = result.exceeded;
        const strictness = STRICTNESS[budget.on_exceed] - (was ? STRICTNESS[was.budget.on_exceed] : -1);
        if (strictness > 0 || (strictness === 0 && !resetsAt && was?.resetsAt))
          result.exceeded = { budget, message, ...(resetsAt ? { resetsAt } : {}) };
        break;
      }
      if (budget.warn_at !== undefined && !reaches(before, budget.warn_at * limit) && reaches(after, budget.warn_at * limit)) {
        const human_message = `budget ${Math.round(budget.warn_at * 100)}% consumed (${what(after)}/${what(limit)} ${budget.id})`;
        // A day budget's `max` and `daily` read one meter: one crossing, one warning.
        if (!result.signals.some((w) => w.budget_id === budget.id && w.human_message === human_message))
          result.signals.push({ code: 'BUDGET_WARNING', budget_id: budget.id, human_message });
      }
    }
    result.delta.push({ kind: 'budget', key: k, ...next });
    if (dailyKey && dailyNext) result.delta.push({ kind: 'budget', key: dailyKey, ...dailyNext });
  }
  return result;
}

/** The agent's budgets already at their ceiling in the current period (what `budget_under_limit` refuses completion on). */
export function budgetsAtLimit(
  agentId: string,
  budgets: readonly BudgetIR[],
  state: EngineState,
  nowMs: number,
  sessionId?: string,
): { budget: BudgetIR; message: string; resetsAt?: string }[] {
  const today = day(nowMs);
  const out: { budget: BudgetIR; message: string; resetsAt?: string }[] = [];
  for (const budget of budgets) {
    const period = budget.window === 'session' ? `s:${sessionId ?? '-'}` : today.period;
    const counter = state.budgets[key(agentId, budget.id, period)] ?? { spent_usd: 0, calls: 0 };
    const daily = budget.window === 'day' ? counter : (state.budgets[key(agentId, budget.id, today.period)] ?? { spent_usd: 0, calls: 0 });
    const ownFull =
      (budget.max !== undefined && reaches(counter.spent_usd, budget.max)) ||
      (budget.max_calls !== undefined && counter.calls >= budget.max_calls);
    const dailyFull = budget.daily !== undefined && reaches(daily.spent_usd, budget.daily);
    if (!ownFull && !dailyFull) continue;
    out.push({
      budget,
      message: `budget ${budget.id} is used up (${usd(counter.spent_usd)}, ${counter.calls} calls)`,
      // A full session stays full after midnight: only a day's meter resets then.
      ...(budget.window === 'day' || !ownFull ? { resetsAt: today.resetsAt } : {}),
    });
  }
  return out;
}

/** One budget's use in its current period, for `faramesh status`. */
export interface BudgetUsage {
  agent: string;
  id: string;
  window: 'day' | 'session';
  /** The UTC day a daily budget counts. */
  period?: string;
  /**
   * A session budget: how many sessions it has counted; `spent_usd` and `calls` are then the
   * session nearest its ceiling (each session has its own), `total_spent_usd` all of them.
   */
  sessions?: number;
  session_id?: string;
  total_spent_usd?: number;
  spent_usd: number;
  calls: number;
  max_usd?: number;
  max_calls?: number;
  daily_usd?: number;
  /** A session budget's `daily` cap: what today has spent across its sessions. */
  daily_spent_usd?: number;
}

export function budgetUsage(agentId: string, budgets: readonly BudgetIR[], state: EngineState, nowMs: number): BudgetUsage[] {
  const today = day(nowMs).period;
  return budgets.map((b) => {
    const limits = {
      ...(b.max !== undefined ? { max_usd: b.max } : {}),
      ...(b.max_calls !== undefined ? { max_calls: b.max_calls } : {}),
      ...(b.daily !== undefined ? { daily_usd: b.daily } : {}),
    };
    if (b.window === 'day') {
      const c = state.budgets[key(agentId, b.id, today)] ?? { spent_usd: 0, calls: 0 };
      return { agent: agentId, id: b.id, window: 'day', period: today, spent_usd: c.spent_usd, calls: c.calls, ...limits };
    }
    const prefix = key(agentId, b.id, 's:');
    // The session nearest a ceiling: by share of max (or of max_calls), else by spend.
    const share = (c: { spent_usd: number; calls: number }) =>
      Math.max(b.max ? c.spent_usd / b.max : 0, b.max_calls ? c.calls / b.max_calls : 0, b.max || b.max_calls ? 0 : c.spent_usd);
    let top: { id: string; spent_usd: number; calls: number } | undefined;
    let total = 0;
    let sessions = 0;
    for (const [k, c] of Object.entries(state.budgets))
      if (k.startsWith(prefix)) {
        total = spend(total, c.spent_usd);
        sessions++;
        if (!top || share(c) > share(top)) top = { id: k.slice(prefix.length), ...c };
      }
    const daily = b.daily !== undefined ? (state.budgets[key(agentId, b.id, today)] ?? { spent_usd: 0 }).spent_usd : undefined;
    return {
      agent: agentId,
      id: b.id,
      window: 'session',
      sessions,
      ...(top ? { session_id: top.id } : {}),
      spent_usd: top?.spent_usd ?? 0,
      calls: top?.calls ?? 0,
      total_spent_usd: total,
      ...limits,
      ...(daily !== undefined ? { daily_spent_usd: daily, period: today } : {}),
    };
  });
}
