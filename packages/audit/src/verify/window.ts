/** The --from/--to window of `audit verify` and `audit export`: records are counted or listed by their `time`. */
export interface TimeWindow {
  /** Epoch ms, inclusive; either end open when absent. */
  from?: number | undefined;
  to?: number | undefined;
}

/** Is a record's `time` within the window? A record without a readable time is in no window. */
export function inWindow(time: unknown, window: TimeWindow): boolean {
  if (window.from === undefined && window.to === undefined) return true;
  const t = typeof time === 'string' ? Date.parse(time) : NaN;
  return !Number.isNaN(t) && (window.from === undefined || t >= window.from) && (window.to === undefined || t <= window.to);
}
