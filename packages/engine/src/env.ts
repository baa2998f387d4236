import type { DecisionRequest } from '@faramesh/protocol';
import { MISSING, type Value } from './values.js';

/** What a condition can read: the request, the clock, and the state the daemon keeps (selectors, sessions). */
export interface EvalEnv {
  request: DecisionRequest;
  /** The NFC-normalised tool id. */
  tool: string;
  time(field: string): Value;
  session(): Value;
  delegation(): Value;
  selector(id: string): Value;
  /**
   * Set by a comparison left unknown because both its sides were present but of kinds that do not
   * compare (`"600" > 500`, an object `== "x"`): the caller resets it before a condition and reads
   * it after, so a deny or defer rule is never skipped because an argument came as another type.
   */
  mismatch: boolean;
}

/** `time.*` in UTC; `weekday` is 1 (Monday) to 7 (Sunday). */
export function timeField(nowMs: number, field: string): Value {
  const d = new Date(nowMs);
  switch (field) {
    case 'hour':
      return d.getUTCHours();
    case 'minute':
      return d.getUTCMinutes();
    case 'weekday':
      return ((d.getUTCDay() + 6) % 7) + 1;
    case 'day':
      return d.getUTCDate();
    case 'month':
      return d.getUTCMonth() + 1;
    case 'year':
      return d.getUTCFullYear();
    case 'now':
      return d.toISOString();
    default:
      return MISSING;
  }
}
