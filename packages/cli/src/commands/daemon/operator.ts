/** Shared by the commands that talk to a running daemon over the operator channel. */
import { userInfo } from 'node:os';
import { DaemonUnreachableError, OperatorError } from '@faramesh/daemon/client';
import type { Out } from '../../output.js';

/**
 * Who the operator is, for the log (`by`): the login name, else $USER or $LOGNAME, else `uid:<n>`.
 * A uid with no passwd entry (a container run with --user 1234, OpenShift's random uids) has no
 * login name, and os.userInfo() throws there: the operator must still be able to resolve approvals.
 */
export function operatorName(info: () => { username: string } = userInfo): string {
  try {
    const name = info().username;
    if (name) return name;
  } catch {
    // No passwd entry for this uid.
  }
  return process.env.USER || process.env.LOGNAME || `uid:${process.getuid?.() ?? 'unknown'}`;
}

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
