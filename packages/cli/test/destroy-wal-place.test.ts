import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeStack, POLICY } from './daemon-helpers.js';

test('destroy never removes a log that a symlinked wal_dir puts outside the stack', async () => {
  const outside = mkdtempSync(join(tmpdir(), 'fm-linked-wal-'));
  const s = makeStack();
  try {
    // The stack's ./wal is a link to a log elsewhere (a shared log volume, say).
    assert.equal(s.cli('apply').code, 0);
    await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: {} });
    assert.equal(s.cli('apply', '--stop').code, 0);
    const target = join(outside, 'log');
    renameSync(join(s.dir, 'wal'), target);
    symlinkSync(target, join(s.dir, 'wal'));
    writeFileSync(join(target, 'precious.txt'), 'keep me');
    assert.equal(s.cli('apply').code, 0);
    const before = readdirSync(target).filter((f) => f.endsWith('.wal'));
    assert.ok(before.length > 0);
    const r = s.cli('destroy', '--yes');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /outside the stack directory/);
    assert.deepEqual(
      readdirSync(target).filter((f) => f.endsWith('.wal')),
      before,
      'the log outside the stack is untouched',
    );
    assert.ok(existsSync(join(s.dir, '.faramesh', 'keys')), 'and the keys that verify it are kept');
    assert.equal(s.cli('audit', 'verify', '--dir', target).code, 0);
  } finally {
    s.stop();
  }
  // A link with nothing else beside the log: still untouched (it used to be emptied, then destroy crashed).
  const lone = mkdtempSync(join(tmpdir(), 'fm-linked-wal-'));
  const t = makeStack(POLICY.replace('wal_dir = "./wal"', 'wal_dir = "./logs/wal"'));
  try {
    mkdirSync(join(t.dir, 'logs'));
    symlinkSync(lone, join(t.dir, 'logs', 'wal'));
    assert.equal(t.cli('apply').code, 0);
    await t.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: {} });
    const r = t.cli('destroy', '--yes');
    assert.equal(r.code, 0, r.stderr);
    assert.ok(
      readdirSync(lone).some((f) => f.endsWith('.wal')),
      'the log is still there',
    );
  } finally {
    t.stop();
  }
});
