/**
 * The daemon's clock: wall time that does not run backward. Phases, sessions, rate windows,
 * budgets, approvals, tokens and the log's record times all read it, so a system clock stepped back
 * (a VM booted on a stale clock, then NTP; an operator's `date -s`) cannot bring back an ended
 * phase, stretch a session, or give an expired token more life. While the system clock is behind,
 * the daemon keeps counting from where it was, at the monotonic clock's rate; it follows the system
 * clock again once that catches up, and follows it forward at once.
 *
 * A step back of more than `MAX_HOLD_MS` is taken as the correction of a clock that was wrong (set
 * years ahead by mistake): held that far, certificates and credentials would be judged expired
 * until the system clock caught up, so the daemon follows it back.
 */
import { performance } from 'node:perf_hooks';

export const MAX_HOLD_MS = 7 * 86_400_000;
/** A step back smaller than this goes unmentioned (NTP's ordinary corrections are milliseconds). */
const NOTICE_MS = 1000;

export class SteadyClock {
  /** The wall time taken last, and the monotonic time it was taken at. */
  private wallAt: number;
  private monoAt: number;
  /** How many times a step back beyond `MAX_HOLD_MS` was followed, and how many were told of. */
  private released = 0;
  private toldReleased = 0;
  private toldHeld = false;

  constructor(
    private readonly wall: () => number = Date.now,
    private readonly mono: () => number = () => performance.now(),
  ) {
    this.wallAt = wall();
    this.monoAt = mono();
  }

  /** Milliseconds since the epoch. */
  now(): number {
    const wall = this.wall();
    const mono = this.mono();
    const steady = this.wallAt + (mono - this.monoAt);
    if (wall >= steady || steady - wall > MAX_HOLD_MS) {
      if (wall < steady) this.released++;
      this.wallAt = wall;
      this.monoAt = mono;
      return wall;
    }
    return Math.floor(steady);
  }

  /** How far (ms) the daemon's time is ahead of the system clock: 0 unless that stepped back. */
  ahead(): number {
    return Math.max(0, this.now() - this.wall());
  }

  /** What changed since the last call that the daemon's log should say (a step back held, or let go). */
  news(): string | undefined {
    const ahead = this.ahead();
    if (this.released !== this.toldReleased) {
      this.toldReleased = this.released;
      this.toldHeld = false;
      return `the system clock stepped back more than ${MAX_HOLD_MS / 86_400_000} days: taken as a correction, the daemon's time follows it back`;
    }
    if (ahead > NOTICE_MS && !this.toldHeld) {
      this.toldHeld = true;
      return `the system clock is ${seconds(ahead)} behind the daemon's time (it stepped back): phases, sessions, windows and expiries count on from the daemon's time until the system clock catches up`;
    }
    if (ahead === 0 && this.toldHeld) {
      this.toldHeld = false;
      return "the system clock caught up with the daemon's time";
    }
    return undefined;
  }

  /**
   * Never read earlier than `ms`: at a start, the latest time in the log, which a system clock
   * stepped back while the daemon was down is behind (unless by more than `MAX_HOLD_MS`).
   */
  notBefore(ms: number): void {
    const now = this.now();
    if (!Number.isFinite(ms) || ms <= now || ms - this.wall() > MAX_HOLD_MS) return;
    this.wallAt = ms;
    this.monoAt = this.mono();
  }
}

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

/** The one clock of the daemon process. */
export const daemonClock = new SteadyClock();

/** The daemon's time in ms since the epoch (see `SteadyClock`). */
export const daemonNow = (): number => daemonClock.now();
