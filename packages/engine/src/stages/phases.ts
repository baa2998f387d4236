/**
 * Where an agent's phases stand. The chain starts at the first phase when the policy was applied;
 * each runs for its `duration` and hands over to `next`. The rule stage tries the active phase's
 * rules first, and `status` and `explain agent` show the same schedule, so both read it from here.
 */
import type { PhaseIR } from '@faramesh/fpl';

export interface PhaseStanding {
  name: string;
  /**
   * `active`: its rules are tried first now; `ended`: it ran and handed over; `upcoming`: later in
   * the chain; `unreached`: no chain from the first phase leads to it (or the policy was never applied).
   */
  state: 'active' | 'ended' | 'upcoming' | 'unreached';
  /** When it began (`active`, `ended`) or begins (`upcoming`). */
  starts_ms?: number;
  /** When it ended, or ends; none for a phase without a `duration`, which never ends. */
  ends_ms?: number;
}

type Timed = Pick<PhaseIR, 'name' | 'next'> & { duration_s?: number };

/** Every phase of `phases`, in the order declared, as it stands at `nowMs`. */
export function phaseSchedule(phases: readonly Timed[], appliedMs: number | undefined, nowMs: number): PhaseStanding[] {
  const standing = new Map<string, PhaseStanding>();
  if (appliedMs !== undefined) {
    let start = appliedMs;
    let phase: Timed | undefined = phases[0];
    let found = false;
    while (phase && !standing.has(phase.name)) {
      const end = phase.duration_s === undefined ? undefined : start + phase.duration_s * 1000;
      // The first phase not yet over is the active one; those after it in the chain are to come.
      const state: PhaseStanding['state'] = found ? 'upcoming' : end === undefined || nowMs < end ? 'active' : 'ended';
      found ||= state === 'active';
      standing.set(phase.name, { name: phase.name, state, starts_ms: start, ...(end !== undefined ? { ends_ms: end } : {}) });
      // A phase without a duration never hands over: nothing after it in the chain is reached.
      if (end === undefined) break;
      start = end;
      const next = phase.next;
      phase = next === undefined ? undefined : phases.find((p) => p.name === next);
    }
  }
  return phases.map((p) => standing.get(p.name) ?? { name: p.name, state: 'unreached' });
}

/** The phase whose rules are tried first at `nowMs`, if any. */
export function activePhase(phases: readonly Timed[], appliedMs: number | undefined, nowMs: number): string | undefined {
  return phaseSchedule(phases, appliedMs, nowMs).find((p) => p.state === 'active')?.name;
}
