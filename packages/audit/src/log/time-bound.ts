/**
 * The latest record time of a segment, kept in its manifest (`max_time`), so that readers of a
 * recent window (`audit ls --since`, `plan`, `test record`, …) skip sealed segments older than
 * it instead of parsing the whole log. The appender and the verifier fold times through this
 * one function, so a manifest's bound is checked exactly as it was made.
 */

/** The fixed-width UTC form the log's clock writes: its strings sort as the times do. */
const CANONICAL = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/**
 * The bound so far after a record with `time`: '' before any record, null once a record's time
 * cannot be put in canonical form (the segment then gets no bound and is always read).
 */
export function foldTime(bound: string | null, time: unknown): string | null {
  if (bound === null) return null;
  let t: string | undefined;
  if (typeof time === 'string') {
    if (CANONICAL.test(time)) t = time;
    else {
      // Other RFC 3339 forms (offsets, other precisions), as callers may state them.
      const ms = Date.parse(time);
      const iso = Number.isNaN(ms) ? '' : new Date(ms).toISOString();
      if (CANONICAL.test(iso)) t = iso;
    }
  }
  if (t === undefined) return null;
  return t > bound ? t : bound;
}

/** A manifest's `max_time` as read: a canonical time, or absent. */
export const isTimeBound = (v: unknown): v is string => typeof v === 'string' && CANONICAL.test(v);

/** Can a segment whose latest record is at `maxTime` hold a record at or after `since` (epoch ms)? */
export const mayReach = (maxTime: string | undefined, since: number): boolean => maxTime === undefined || Date.parse(maxTime) >= since;

/** Two bounds folded separately (runs of one segment scanned apart), joined. */
export const joinBounds = (a: string | null, b: string | null): string | null => (a === null || b === null ? null : a > b ? a : b);
