import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/faramesh.js', import.meta.url));

function check(dir: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, 'check', '--format', 'json', '--dir', dir], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test('check --format json answers on stdout when there is no policy or its lock is malformed', () => {
  const empty = mkdtempSync(join(tmpdir(), 'faramesh-check-json-'));
  const locked = mkdtempSync(join(tmpdir(), 'faramesh-check-json-'));
  writeFileSync(join(locked, 'governance.fms'), 'import "github.com/acme/catalog/policies/acme/refunds@1.0.0"\npermit a\n');
  writeFileSync(join(locked, 'governance.fms.lock'), '{');
  for (const [dir, why] of [
    [empty, /no governance\.fms/],
    [locked, /governance\.fms\.lock is malformed/],
  ] as const) {
    const r = check(dir);
    assert.equal(r.code, 1);
    const json = JSON.parse(r.stdout) as { valid: boolean; exit_code: number; error: string };
    assert.equal(json.valid, false);
    assert.equal(json.exit_code, 1);
    assert.match(json.error, why);
    assert.match(r.stderr, why);
  }
});
