/**
 * A daemon whose audit log failed (a full disk, a quota) denies every call with AUDIT_UNAVAILABLE.
 * Once the disk takes writes again the log resumes, cut back to what was acknowledged
 * (AuditLog.resume), and the engine state is rebuilt from it: the refused calls' rate, budget and
 * session use was applied in memory before their records failed, and must not count. Then calls
 * are decided again. All in one synchronous step, so nothing is decided or appended in between.
 */
import type { AuditLog } from '@faramesh/audit';
import type { EngineState } from '@faramesh/engine';
import type { DecisionService } from './decisions.js';
import type { Restored } from './state-snapshot.js';

/** How often a failed log is tried again. */
export const RESUME_EVERY_MS = 5_000;

export interface ResumeDeps {
  log: AuditLog;
  decisions: DecisionService;
  /** The state the decision service, the selector fetcher and the snapshots hold: rebuilt in place. */
  state: EngineState;
  /** The engine state and log facts, from the log as it now is (restoreState). */
  rebuild: () => Restored;
  say: (line: string) => void;
}

/** True once the daemon decides again (or never stopped). */
export function resumeLog(o: ResumeDeps): boolean {
  if (o.decisions.degraded === undefined) return true;
  // A permit waiting for its credential has applied its rate and budget use, not yet recorded it: a
  // state rebuilt now would lose that use, and its record would carry the values without it. Its
  // append fails while the log has, and then nothing of it stays: the next try finds it done.
  if (o.decisions.unrecorded > 0) return false;
  if (!o.log.resume()) return false;
  let restored: Restored;
  try {
    restored = o.rebuild();
  } catch (e) {
    o.say(`audit log: writable again, but the state cannot be rebuilt from it (${(e as Error).message}); calls stay refused`);
    return false;
  }
  // Selector values are fetched, never logged: the ones held stay.
  const { selectors } = o.state;
  for (const key of Object.keys(o.state)) delete (o.state as unknown as Record<string, unknown>)[key];
  Object.assign(o.state, restored.state, { selectors });
  o.decisions.quiesced.clear();
  for (const [id, q] of Object.entries(restored.quiesced)) o.decisions.quiesced.set(id, q);
  delete o.decisions.degraded;
  o.say(
    `audit log: writable again; resumed at record ${o.log.size} with the state rebuilt from ${restored.records} records; deciding again`,
  );
  return true;
}
