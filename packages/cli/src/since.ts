/**
 * The `--since` window of the commands that read recent history (plan, test record, audit ls/stats,
 * approvals list): a duration, in seconds (0 is an empty window). One longer than the time since 1970 means the
 * whole history, so the window's start is always a real time.
 */
import { parseDuration } from '@faramesh/fpl/runtime';

/** The window in seconds, or undefined when `text` is not a duration. */
export function sinceSeconds(text: string, nowMs = Date.now()): number | undefined {
  const seconds = parseDuration(text);
  if (seconds === undefined || !(seconds >= 0)) return undefined;
  return Math.min(seconds, Math.floor(nowMs / 1000));
}

export const sinceProblem = (text: string): string => `--since: '${text}' is not a duration (24h, 7d, 30m)`;
