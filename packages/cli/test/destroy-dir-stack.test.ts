import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/faramesh.js', import.meta.url));

function appliedLooking(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fm-destroy-two-'));
  writeFileSync(join(dir, 'governance.fms'), 'agent "bot" {\n  default deny\n}\n');
  mkdirSync(join(dir, '.faramesh', 'state'), { recursive: true });
  writeFileSync(join(dir, '.faramesh', 'governance.compiled.json'), '{}');
  return dir;
}

test('destroy refuses --dir and --stack naming different stacks (exit 64) and removes nothing', () => {
  const a = appliedLooking();
  const b = appliedLooking();
  const r = spawnSync(process.execPath, [BIN, 'destroy', '--dir', a, '--stack', b, '--yes'], { encoding: 'utf8' });
  assert.equal(r.status, 64, r.stdout + r.stderr);
  assert.match(r.stderr, /name different stacks/);
  for (const dir of [a, b]) assert.ok(existsSync(join(dir, '.faramesh', 'governance.compiled.json')), `${dir} untouched`);
  // The same stack named twice is no conflict.
  const same = spawnSync(process.execPath, [BIN, 'destroy', '--dir', a, '--stack', `${a}/`, '--yes'], { encoding: 'utf8' });
  assert.equal(same.status, 0, same.stderr);
  // A stack that never ran has no runtime socket to speak of.
  assert.doesNotMatch(same.stdout, /runtime socket removed/);
  assert.match(same.stdout, /stack destroyed/);
});
