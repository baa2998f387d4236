/** Shared by the commands that talk to a running daemon over the operator channel. */
import { DaemonUnreachableError, OperatorError } from '@faramesh/daemon/client';
import type { Out } from '../../output.js';

/** Run an operator command: an unreachable daemon is exit 1, a refused request 1 (4 when not found). */
/** A bad flag value found once the command runs: said, and exit 64 (EX_USAGE). */
export class UsageError extends Error {}

export async function guarded(out: Out, f: (out: Out) => Promise<number>): Promise<number> {
  try {
    return await f(out);
  } catch (e) {
    if (e instanceof UsageError) {
      out.error(out.fail(e.message));
      return 64;
    }
    if (e instanceof DaemonUnreachableError) {
      out.error(out.fail(`${e.message}: is the daemon running? (faramesh apply)`));
      return 1;
    }
    if (e instanceof OperatorError) {
      out.error(out.fail(e.message));
      return e.code === 'not_found' ? 4 : 1;
    }
    throw e;
  }
}
