/**
 * `faramesh dev`: the daemon in the foreground for writing policy and building agents. It compiles
 * and signs exactly as apply does and runs the same engine and protocol, but its log and state live
 * in a throwaway directory in memory (/dev/shm where there is one), every record is dev-tagged so
 * it can never pass for a production trail, records are echoed to stderr as JSON Lines (the stub
 * audit sink), and agents get a synthesized SPIFFE id. Ctrl-C drains and removes all of it.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { serve, stackPaths } from '@faramesh/daemon';
import { makeOut } from '../../output.js';
import { devScratch } from './dev-scratch.js';
import { compileForDaemon, keepCopies, writeStack } from './prepare.js';
import { daemonStatus } from './running.js';

export interface DevOptions {
  dir: string;
  /** Do not echo records to stderr. */
  quiet?: boolean;
  noColor?: boolean;
}

export async function dev(o: DevOptions): Promise<number> {
  const out = makeOut(o.noColor);
  const paths = stackPaths(o.dir);
  const prepared = await compileForDaemon(paths, out, undefined, { recordLock: true, dev: true });
  if (typeof prepared === 'number') return prepared;
  const running = await daemonStatus(paths);
  if (running) {
    out.error(out.fail(`a daemon (pid=${running.pid}) already runs this stack; stop it first with faramesh apply --stop`));
    return 1;
  }
  // The stack's own compiled policy is what its next `serve` or apply-started daemon enforces: the
  // policy tried in dev must not outlive the session, so what apply left there is put back at the end.
  const restore = keepCopies(paths);
  let sandbox: string | undefined;
  try {
    sandbox = await writeStack(paths, prepared, true);
  } catch (e) {
    restore();
    throw e;
  }
  out.done(`${prepared.name} compiled (policy ${prepared.compiled.policy_version.slice(0, 16)}, signed)`);

  const scratch = devScratch();
  const walDir = join(scratch, 'wal');
  const stateDir = join(scratch, 'state');
  mkdirSync(stateDir, { mode: 0o700 });
  const cleanup = () => {
    rmSync(scratch, { recursive: true, force: true });
    restore();
  };
  // Even an abrupt end leaves nothing behind that could be mistaken for a trail.
  process.once('exit', cleanup);
  const { settings, ir } = prepared;
  const code = await serve(paths.stackDir, {
    say: (line) => process.stderr.write(`${line}\n`),
    dev: { walDir, stateDir, ...(o.quiet ? {} : { echo: (json) => process.stderr.write(`${json}\n`) }) },
    onReady: () => {
      const declared = ir.providers.map((p) => `${p.name} (${p.type})`);
      out.done(`WAL: in-memory (${walDir}), every record dev-tagged; removed when dev stops`);
      out.done('identity: stub (spiffe://localhost/dev/<host>/<stack>/<agent>, not attested)');
      out.done(`audit sink: ${o.quiet ? 'off (--quiet)' : 'JSON Lines to stderr'}`);
      if (declared.length > 0)
        out.print(
          `→ providers declared (${declared.join(', ')}): not contacted in dev (credentials are STUB-<id> secrets, checkpoints are signed with the stack key, sinks and alerts go to stderr)`,
        );
      // Dev writes the launcher as apply does: with the OS tier on, it sandboxes what it starts, and
      // a developer whose agent cannot reach the network must not be told there is no sandbox.
      if (sandbox) out.done(`enforcement: application tier, and the OS tier for agents started with .faramesh/bin/agent (${sandbox})`);
      else out.done('enforcement: application tier only (runtime { os_tier = true } sandboxes agents started with .faramesh/bin/agent)');
      out.print(`→ Unix socket: ${settings.agentSocket}`);
      out.print(`→ status:    faramesh status${o.dir === '.' ? '' : ` --dir ${o.dir}`}`);
      out.print(`→ approvals: faramesh approvals list${o.dir === '.' ? '' : ` --dir ${o.dir}`}`);
      out.print('→ start agent: ./.faramesh/bin/agent -- <your agent command>');
      out.print('→ Ctrl-C stops it');
    },
  });
  cleanup();
  process.off('exit', cleanup);
  return code;
}
