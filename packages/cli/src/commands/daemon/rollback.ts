/**
 * `faramesh rollback [--to VERSION] [--list]`: re-apply an earlier policy. Versions are numbered
 * v1…vN in the order they were applied; `--to` takes `v<N>` or a version hash (prefix of 8+). The
 * daemon checks the signed copy it kept, swaps it in like apply does, and records it in the log.
 */
import { join } from 'node:path';
import { publicKeyFile, readVerifierKeys } from '@faramesh/audit';
import { loadCompiled, runtimeSettings } from '@faramesh/daemon';
import { operatorCall, stackPaths } from '@faramesh/daemon/client';
import { makeOut, type Format, type Out } from '../../output.js';
import { writeAgentArtifacts } from './artifacts.js';
import { guarded, operatorName } from './operator.js';

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
      const by = operatorName();
      const rolled = await operatorCall<Rolled>(socket, 'rollback', { by, ...(o.to ? { to: o.to } : {}) }, 30_000);
      print(out, o.format, rolled);
      if (rolled.changed) return relaunchArtifacts(o.dir, out);
    }
    return 0;
  });
}

/**
 * The launcher, agent.env and sandbox plan of the version now in force: apply wrote them for the
 * policy it applied, and a launcher left from another version would start agents (the supervisor's
 * too) under that version's OS tier, or with none where the version rolled back to has one.
 */
function relaunchArtifacts(dir: string, out: Out): number {
  const paths = stackPaths(dir);
  try {
    const compiled = loadCompiled(paths.compiled, paths.signature, readVerifierKeys(publicKeyFile(paths.stackDir)));
    const settings = runtimeSettings(compiled.ir.runtime, paths.stackDir, process.env);
    writeAgentArtifacts(paths, settings, compiled.ir, join(paths.stackDir, compiled.source));
    return 0;
  } catch (e) {
    out.error(
      out.fail(
        `the launcher and agent.env were not rewritten for the version rolled back to (${(e as Error).message}): agents started now run as the previous apply set up`,
      ),
    );
    return 1;
  }
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
