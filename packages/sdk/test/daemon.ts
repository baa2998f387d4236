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
    const r = spawnSync(process.execPath, [BIN, ...args, '--dir', dir], { encoding: 'utf8', env });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  const applied = cli('apply');
  if (applied.code !== 0) throw new Error(`apply failed: ${applied.stderr}${applied.stdout}`);
  return { dir, socket: join(dir, '.faramesh', 'runtime', 'agent.sock'), cli, stop: () => void cli('apply', '--stop') };
}
