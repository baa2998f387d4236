/**
 * Times as policies, fixtures and commands write them. `Date.parse` rolls an impossible date over
 * (`2026-02-30` is March 2nd, `T24:00` the next day): a rule's boundary or a test's clock would move
 * to another day without a word, so such dates name no time here.
 */

/** Whether the calendar has this day, and the clock this hour and minute. */
export function realDateTime(year: number, month: number, day: number, hour = 0, minute = 0): boolean {
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCMonth() === month - 1 && d.getUTCDate() === day && hour <= 23 && minute <= 59;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 date and time (seconds optional) as epoch milliseconds; undefined if it names no time. */
export function parseRfc3339(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute] = m.slice(1, 6).map(Number) as [number, number, number, number, number];
  if (!realDateTime(year, month, day, hour, minute)) return undefined;
  const ms = Date.parse(text.toUpperCase());
  return Number.isFinite(ms) ? ms : undefined;
}
