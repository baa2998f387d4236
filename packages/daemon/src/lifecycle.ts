/**
 * The daemon's lifecycle: STARTING → INITIALIZING → READY → DRAINING → HALT. Agents are served
 * only in READY; HALT is final (a failed or exceeded initialization goes straight there).
 */
export type LifecycleState = 'STARTING' | 'INITIALIZING' | 'READY' | 'DRAINING' | 'HALT';

const NEXT: Record<LifecycleState, readonly LifecycleState[]> = {
  STARTING: ['INITIALIZING', 'HALT'],
  INITIALIZING: ['READY', 'HALT'],
  READY: ['DRAINING', 'HALT'],
  DRAINING: ['HALT'],
  HALT: [],
};

export class Lifecycle {
  private current: LifecycleState = 'STARTING';
  private readonly listeners: ((state: LifecycleState) => void)[] = [];
  /** When each state was entered (epoch ms). */
  readonly entered: Partial<Record<LifecycleState, number>> = { STARTING: Date.now() };

  get state(): LifecycleState {
    return this.current;
  }

  to(next: LifecycleState): void {
    if (!NEXT[this.current].includes(next)) throw new Error(`lifecycle: ${this.current} cannot go to ${next}`);
    this.current = next;
    this.entered[next] = Date.now();
    for (const l of this.listeners) l(next);
  }

  on(listener: (state: LifecycleState) => void): void {
    this.listeners.push(listener);
  }
}
