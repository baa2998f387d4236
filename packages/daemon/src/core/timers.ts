/** Timers for delays a policy sets, which can be longer than a Node timer holds. */
import { daemonNow } from './clock.js';

/** The longest delay a Node timer takes (2^31 - 1 ms, about 24.8 days): a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Run `f` at `deadline` (ms since the epoch), however far off: a long wait is taken in steps a timer
 * can hold, and `rearmed` is handed each step's timer (to clear it). Unref'd: it never keeps the
 * process alive.
 */
export function timerAt(deadline: number, f: () => void, rearmed: (timer: NodeJS.Timeout) => void): NodeJS.Timeout {
  const left = deadline - daemonNow();
  const timer = setTimeout(
    () => (left > MAX_TIMER_MS ? rearmed(timerAt(deadline, f, rearmed)) : f()),
    Math.min(Math.max(0, left), MAX_TIMER_MS),
  );
  timer.unref();
  return timer;
}
