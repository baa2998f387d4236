/**
 * `faramesh rollback [--to VERSION] [--list]`: re-apply an earlier policy. Versions are numbered
 * v1…vN in the order they were applied; `--to` takes `v<N>` or a version hash (prefix of 8+). The
 * daemon checks the signed copy it kept, swaps it in like apply does, and records it in the log.
 */
import { userInfo } from 'node:os';
import { operatorCall, stackPaths } from '@faramesh/daemon/client';
import { makeOut, type Format, type Out } from '../../output.js';
import { guarded } from './operator.js';

export interface RollbackOptions {
  dir: string;
  to?: string;
  list?: boolean;
  format?: Format;
  noColor?: boolean;
}

interface History {
  current: string;
  versions: { n: string; version: string; applied_at: string; source: string; by?: string }[];
}

/** What the daemon did: `changed` false when the version asked for was already in force. */
interface Rolled {
  changed: boolean;
  policy_version: string;
  from: string;
}

export function rollback(o: RollbackOptions): Promise<number> {
  const socket = stackPaths(o.dir).operatorSocket;
  return guarded(makeOut(o.noColor), async (out) => {
    if (o.list) print(out, o.format, await operatorCall<History>(socket, 'policy.history'));
    else {
      const by = userInfo().username;
      print(out, o.format, await operatorCall<Rolled>(socket, 'rollback', { by, ...(o.to ? { to: o.to } : {}) }, 30_000));
    }
    return 0;
  });
}

/** The history or the rollback, as text (hashes cut to 16 characters) or as JSON (whole). */
function print(out: Out, format: Format | undefined, r: History | Rolled): void {
  if (format === 'json') out.print(JSON.stringify(r, null, 2));
  else if ('versions' in r)
    out.print(
      r.versions
        .map((v) => `${v.n.padEnd(5)} ${v.version.slice(0, 16)}  ${v.applied_at}  ${v.source}${v.by ? ` (rollback by ${v.by})` : ''}`)
        .concat(`current: ${r.current.slice(0, 16)}`)
        .join('\n'),
    );
  else
    out.print(
      r.changed
        ? out.ok(`policy rolled back: ${r.from.slice(0, 16)} → ${r.policy_version.slice(0, 16)} (recorded in the log)`)
        : out.ok(`policy ${r.policy_version.slice(0, 16)} is already in force`),
    );
}
