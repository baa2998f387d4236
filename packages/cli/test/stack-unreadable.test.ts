import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/faramesh.js', import.meta.url));
const POLICY = 'agent "bot" {\n  default deny\n  rules { permit search }\n}\n';

// Root reads everything: as root the CLI runs as another uid (setpriv), as anyone else as itself.
const root = process.getuid?.() === 0;
const usable = !root || existsSync('/usr/bin/setpriv');

function cli(...args: string[]): { code: number | null; out: string } {
  const argv = [BIN, ...args];
  const r = root
    ? spawnSync('setpriv', ['--reuid', '54322', '--regid', '54322', '--clear-groups', process.execPath, ...argv], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH!, HOME: tmpdir(), NO_COLOR: '1' },
      })
    : spawnSync(process.execPath, argv, { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout + r.stderr };
}

function openDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fm-unreadable-'));
  chmodSync(dir, 0o755);
  return dir;
}

test('a policy this user may not read is a clear error (exit 1), not a stack trace', { skip: !usable && 'needs setpriv as root' }, () => {
  const dir = openDir();
  writeFileSync(join(dir, 'governance.fms'), POLICY);
  chmodSync(join(dir, 'governance.fms'), 0o000);
  for (const command of ['check', 'plan', 'test', 'compile']) {
    const r = cli(command, '--dir', dir);
    assert.equal(r.code, command === 'test' ? 2 : 1, `${command}: ${r.out}`);
    assert.match(r.out, /governance\.fms cannot be read by this user \(EACCES\)/, command);
    assert.doesNotMatch(r.out, /\n\s+at |Node\.js v/, command);
  }
});

test(
  'a stack directory this user may not enter is not reported as holding no governance.fms',
  { skip: !usable && 'needs setpriv as root' },
  () => {
    const dir = join(openDir(), 'stack');
    mkdirSync(dir);
    writeFileSync(join(dir, 'governance.fms'), POLICY);
    chmodSync(dir, 0o000);
    const r = cli('check', '--dir', dir);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /stack cannot be read by this user \(EACCES\)/);
    assert.doesNotMatch(r.out, /no governance\.fms in/);
  },
);
