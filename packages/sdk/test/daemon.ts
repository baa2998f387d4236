/** Test helper: a real daemon for a stack in a temp directory, started with the CLI. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../cli/bin/faramesh.js', import.meta.url));

export const POLICY = `runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
}

agent "bot" {
  default deny
  rules {
    permit searchDocs
    defer  refund reason "refunds need a human"
    deny!  payout reason "platform team only"
  }
}
`;

export interface TestDaemon {
  dir: string;
  socket: string;
  cli(...args: string[]): { code: number; stdout: string; stderr: string };
  stop(): void;
}

export function startDaemon(policy = POLICY): TestDaemon {
  const dir = mkdtempSync(join(tmpdir(), 'fm-sdk-'));
  writeFileSync(join(dir, 'governance.fms'), policy);
  const env = { ...process.env, NO_COLOR: '1', HOME: dir };
  const cli = (...args: string[]) => {
    // Audit commands take the stack as --stack (their --dir is the log's directory).
    const r = spawnSync(process.execPath, [BIN, ...args, args[0] === 'audit' ? '--stack' : '--dir', dir], { encoding: 'utf8', env });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  const applied = cli('apply');
  if (applied.code !== 0) throw new Error(`apply failed: ${applied.stderr}${applied.stdout}`);
  return { dir, socket: join(dir, '.faramesh', 'runtime', 'agent.sock'), cli, stop: () => void cli('apply', '--stop') };
}

/** Wait until a pending approval matches, approve it from the CLI, and return its id. */
export async function approveFromCli(d: TestDaemon, matches: (args: Record<string, unknown>) => boolean): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const list = JSON.parse(d.cli('approvals', 'list', '--json').stdout) as { approvals: { id: string; args: Record<string, unknown> }[] };
    const found = list.approvals.find((a) => matches(a.args));
    if (found) {
      const approved = d.cli('approvals', 'approve', found.id, '--reason', 'ok');
      if (approved.code !== 0) throw new Error(`approve failed: ${approved.stderr}`);
      return found.id;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no pending approval matched');
}

/**
 * Run a fixture agent (test/fixtures/<name>) with `args`, through the stack's launcher (governed by
 * autoload) or plainly (the control), with none of this process's FARAMESH_* settings.
 */
export function runFixtureAgent(
  dir: string,
  name: string,
  args: string[] = [],
  launcher = true,
): { code: number | null; stdout: string; stderr: string } {
  const script = fileURLToPath(new URL(`../../test/fixtures/${name}`, import.meta.url));
  const cmd = launcher
    ? [join(dir, '.faramesh', 'bin', 'agent'), '--', process.execPath, script, ...args]
    : [process.execPath, script, ...args];
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('FARAMESH_') || k === 'NODE_OPTIONS') delete env[k];
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', env, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
