/**
 * `faramesh apply`: check → compile → sign and write `.faramesh/` → start the daemon and wait for
 * READY, or hot-swap the policy of the running one over the operator channel. Idempotent: nothing
 * happens when the running daemon already enforces this exact policy. A failed apply leaves the
 * running daemon and its policy untouched.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LOCK_FILE } from '../../registry/lock.js';
import { operatorCall, signingProvider, stackPaths, type StackPaths } from '@faramesh/daemon';
import { makeOut, type Out } from '../../output.js';
import { alertProblems, compileForDaemon, keepCopies, warnUndeliverable, writePolicy } from './prepare.js';
import { agentArtifacts, writeArtifacts, type AgentArtifacts } from './artifacts.js';
import { missingLayers } from './sandbox-plan.js';
import { agentUser } from './agent-user.js';
import { alive, daemonStatus, StackAccessError, stalePid, startDaemon } from './running.js';

export interface ApplyOptions {
  dir: string;
  force?: boolean;
  stop?: boolean;
  checkUid?: boolean;
  requireUidSeparation?: boolean;
  /** Resolve imports from the import cache only. */
  offline?: boolean;
  /** An offline bundle (`faramesh bundle`) to install into the import cache first. */
  bundle?: string;
  /** Every import must already be in governance.fms.lock; nothing is recorded. */
  locked?: boolean;
  noColor?: boolean;
}

export async function apply(o: ApplyOptions): Promise<number> {
  const out = makeOut(o.noColor);
  const paths = stackPaths(o.dir);
  if (o.stop) return stop(paths, out);

  if (o.bundle) {
    const { useBundle } = await import('../bundle/index.js');
    const failed = await useBundle(paths.stackDir, o.bundle, out);
    if (failed !== undefined) return failed;
  }
  // Whether its alerts can be delivered is judged with the environment the daemon has: a running
  // daemon keeps the one it started with, whatever this shell's (it is asked once it answers).
  const mayBeRunning = existsSync(paths.operatorSocket);
  const prepared = await compileForDaemon(paths, out, undefined, {
    offline: !!o.offline,
    locked: !!o.locked,
    recordLock: !o.locked,
    checkAlerts: !mayBeRunning,
  });
  if (typeof prepared === 'number') return prepared;
  const { name, compiled, settings, ir } = prepared;
  const uidProblem = uidSeparation(o);
  if (uidProblem) {
    out.error(out.fail(uidProblem));
    return 1;
  }
  let running: Awaited<ReturnType<typeof daemonStatus>>;
  try {
    running = await daemonStatus(paths);
  } catch (e) {
    out.error(
      out.fail(`the daemon holds its operator socket but does not answer (${(e as Error).message}): stop it with faramesh apply --stop`),
    );
    return 1;
  }
  const short = compiled.policy_version.slice(0, 16);
  if (running?.dev) {
    out.error(
      out.fail(
        `a faramesh dev daemon (pid=${running.pid}) is running this stack, on a throwaway log: stop it (Ctrl-C) before faramesh apply`,
      ),
    );
    return 1;
  }
  if (!running && mayBeRunning) warnUndeliverable(out, alertProblems(ir, process.env));
  if (running?.state === 'READY' && running.policy_version === compiled.policy_version) {
    out.done(`${name} compiled (policy ${short}): no changes, the running daemon already enforces it (pid=${running.pid})`);
    warnUndeliverable(out, running.alerts?.undeliverable ?? []);
    // Its agents' files, written again (an apply whose swap landed but whose files did not is mended here).
    try {
      writeArtifacts(agentArtifacts(paths, settings, ir, prepared.source));
    } catch (e) {
      out.error(out.fail(`the agent launcher and agent.env were not rewritten: ${(e as Error).message}`));
      return 1;
    }
    // The lock is put back even when nothing changed: someone may have lifted it to edit.
    if (settings.immutableConfig) lockConfig(prepared.source, out);
    return 0;
  }
  if (running && running.state !== 'READY') {
    out.error(
      out.fail(`the daemon (pid=${running.pid}) is ${running.state}; try again once it is READY, or stop it with faramesh apply --stop`),
    );
    return 1;
  }
  // What a running daemon was started with stays on disk until it takes the new policy: a refused
  // swap must not leave the refused policy for the next start to enforce. The agents' files (the
  // launcher, agent.env, the sandbox plan) are written only once it has: an agent the supervisor
  // restarts meanwhile starts as the policy still in force says, never as a refused one would.
  const restore = running ? keepCopies(paths) : undefined;
  let artifacts: AgentArtifacts;
  try {
    artifacts = await writePolicy(paths, prepared);
    if (!running) writeArtifacts(artifacts);
  } catch (e) {
    restore?.();
    out.error(out.fail(`${(e as Error).message}: nothing was applied`));
    return 1;
  }
  const sandbox = artifacts.summary;
  out.done(`${name} compiled (policy ${short}, signed)`);
  if (ir.providers.length > 0) out.print(`→ providers declared: ${ir.providers.map((p) => p.name).join(', ')}`);
  // The seed's staging posture (enforce, local key) is allowed, but never silently.
  if (settings.mode === 'enforce' && !signingProvider(ir) && ir.runtime.signing_warning_acknowledged !== true)
    out.error(
      `! checkpoints are signed with this host's stack key: root on this host could re-sign a forged log. Declare a KMS signing provider for non-repudiation, or set runtime { signing_warning_acknowledged = true }`,
    );

  if (running) {
    try {
      await operatorCall(paths.operatorSocket, 'apply', {}, 30_000);
    } catch (e) {
      restore?.();
      const message = (e as Error).message;
      // The running daemon resolves env() from the environment it was started with, not this shell's.
      const unset = /environment variable (\S+) is not set/.exec(message)?.[1];
      const hint =
        unset !== undefined && process.env[unset] !== undefined
          ? `: ${unset} is set in this shell, but the running daemon reads env() from the environment it started with; run faramesh apply --stop, then faramesh apply, to start it with this one`
          : '';
      out.error(
        out.fail(
          `hot-swap refused: ${message} (the daemon keeps policy ${running.policy_version?.slice(0, 16)}, and so do the files it starts from)${hint}`,
        ),
      );
      return 1;
    }
    try {
      writeArtifacts(artifacts);
    } catch (e) {
      out.error(
        out.fail(
          `policy hot-swapped (pid=${running.pid}), but the agent launcher and agent.env were not rewritten (${(e as Error).message}): agents started now run as the previous apply set up; run faramesh apply again`,
        ),
      );
      return 1;
    }
    out.print(`→ policy hot-swapped (pid=${running.pid}): ${running.policy_version?.slice(0, 16)} → ${short}`);
    warnUndeliverable(out, (await daemonStatus(paths).catch(() => undefined))?.alerts?.undeliverable ?? []);
  } else {
    try {
      const started = await startDaemon(paths, settings.coldStartWindowMs + 5000);
      out.print(`→ runtime started (pid=${started.pid})`);
    } catch (e) {
      out.error(out.fail((e as Error).message));
      return 1;
    }
  }
  out.print(`→ Unix socket: ${settings.agentSocket}`);
  out.print(`→ agent launcher: ./.faramesh/bin/agent -- <your agent command>`);
  if (sandbox) {
    out.print(`→ OS tier: ${sandbox}`);
    for (const l of missingLayers()) out.error(`! OS tier: ${l.layer} unavailable (${l.detail}): the launcher will refuse to start agents`);
  } else if (ir.runtime.os_tier === true) out.print('→ OS tier: off (agent_enforce_profile = "off"): application tier only');
  if (settings.immutableConfig) lockConfig(prepared.source, out);
  return 0;
}

async function stop(paths: StackPaths, out: Out): Promise<number> {
  let running: { pid: number } | undefined;
  let silent = false;
  try {
    running = await daemonStatus(paths);
  } catch (e) {
    // Not "no daemon is running": this user cannot tell, and a script would take it for stopped.
    if (e instanceof StackAccessError) {
      out.error(out.fail(e.message));
      return 1;
    }
    // It holds its socket but does not answer (hung, stopped, overloaded): SIGTERM drains it too.
  }
  if (!running) {
    // No answer on the operator socket (it holds its socket but does not answer, it cannot accept one
    // more connection, or its socket file was removed): the pid file, when it names this stack's
    // serve process, still finds it, and SIGTERM drains it too.
    const pid = stalePid(paths);
    running = pid === undefined ? undefined : { pid };
    silent = running !== undefined;
  }
  if (!running) {
    out.done('no daemon is running for this stack');
    return 0;
  }
  if (silent) process.kill(running.pid, 'SIGTERM');
  else await operatorCall(paths.operatorSocket, 'stop', { reason: 'faramesh apply --stop' });
  const deadline = Date.now() + 15_000;
  while (alive(running.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  if (alive(running.pid)) {
    out.error(
      out.fail(
        `the daemon (pid ${running.pid}) did not exit within 15 s${silent ? ' (it does not answer its operator socket)' : ''}; faramesh destroy stops it with SIGKILL, or resolve it by hand`,
      ),
    );
    return 1;
  }
  out.done(`daemon stopped (pid ${running.pid}); runtime socket removed`);
  return 0;
}

/**
 * `--check-uid`: refuse when the daemon would run as the agent's user (a warning when not root,
 * where there is no other user to run as); `--require-uid-separation`: refuse always (see agentUser).
 */
function uidSeparation(o: ApplyOptions): string | undefined {
  if (!o.checkUid && !o.requireUidSeparation) return undefined;
  const daemonUid = process.getuid?.() ?? -1;
  const agentUid = agentUser().uid;
  if (agentUid !== daemonUid) return undefined;
  const why = `the daemon would run as uid ${daemonUid}, the same user as the agent: the agent could signal it or read its files`;
  if (o.requireUidSeparation || daemonUid === 0) return `${why} (set FARAMESH_AGENT_UID to the agent's user)`;
  process.stderr.write(`! ${why}\n`);
  return undefined;
}

/** The policy and its import lock (which decides the imported rules' bytes) made immutable. */
function lockConfig(source: string, out: Out): void {
  out.print(lockSource(source));
  const lock = join(dirname(source), LOCK_FILE);
  if (existsSync(lock)) out.print(lockSource(lock));
}

/**
 * Where the system's own tools are looked up. apply runs as the operator (root, often), maybe from
 * an activated venv or an npm script in the stack: a PATH entry the agents can write (the venv's
 * bin/, node_modules/.bin) would run a `chattr` one of them planted there, with those rights, and the
 * policy would be reported locked when it is not.
 */
export const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * runtime { immutable_config = true }: set the immutable flag on the policy source, so that even
 * root must lift it before editing: `chattr +i` on Linux, the user-immutable flag (`chflags uchg`)
 * on macOS and the BSDs.
 */
export function lockSource(file: string, platform: NodeJS.Platform = process.platform): string {
  const [command, flag, unlock] = platform === 'linux' ? ['chattr', '+i', 'chattr -i'] : ['chflags', 'uchg', 'chflags nouchg'];
  try {
    execFileSync(command, [flag, file], { stdio: 'pipe', env: { ...process.env, PATH: SYSTEM_PATH } });
    return `→ config locked: ${file} (${command} ${flag}; lift it with ${unlock} to edit)`;
  } catch (e) {
    const detail = (e as { stderr?: Buffer }).stderr?.toString().trim() || (e as Error).message;
    return `! config not locked: ${command} ${flag} failed on ${file} (${detail})`;
  }
}
