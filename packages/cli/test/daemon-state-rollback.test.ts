/**
 * A state file put back from an older copy while the daemon is stopped: the log records every
 * generation of the approvals, the tokens and the policy history, so the start is refused rather
 * than a spent approval running again or a revoked token working again. Quiesced agents come from
 * the log itself, so there is no file to put back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readRecords } from '@faramesh/audit';
import { withStack, type Stack } from './daemon-helpers.js';

const refund = { agent_id: 'bot', tool: 'stripe', operation: 'refund', args: { amount: 7 } };
const read = { agent_id: 'bot', tool: 'ticket', operation: 'read', args: {} };
const stateFile = (s: Stack, name: string) => join(s.dir, '.faramesh', name === 'tokens.json' ? 'keys' : 'state', name);
const sealedRecords = (s: Stack, file: string) =>
  readRecords(join(s.dir, 'wal'))
    .map((r) => r.record)
    .filter((r) => r.type === 'state_sealed' && r.file === file);

function refusedStart(s: Stack, why: RegExp): void {
  const r = s.cli('apply');
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, why);
}

for (const snapshot of ['kept', 'removed'] as const)
  test(`an older approvals or tokens file put back refuses the start (engine-state snapshot ${snapshot})`, async () => {
    await withStack(async (s) => {
      assert.equal(s.cli('apply').code, 0);
      const approval = (await s.govern(refund)).defer_token!;
      assert.equal(s.cli('approvals', 'approve', approval).code, 0);
      assert.equal(s.cli('token', 'issue', '--operator', '--name', 'ops').code, 0);
      // The backups: an approved approval not yet spent, and a token not yet revoked.
      const backups = new Map(['approvals.json', 'tokens.json'].map((name) => [name, readFileSync(stateFile(s, name))]));
      assert.equal((await s.govern(refund)).effect, 'PERMIT', 'the approval is spent');
      assert.equal(s.cli('token', 'revoke', 'ops').code, 0);
      assert.equal(s.cli('apply', '--stop').code, 0);
      if (snapshot === 'removed') rmSync(stateFile(s, 'engine-state.json'));

      for (const [name, backup] of backups) {
        const latest = readFileSync(stateFile(s, name));
        writeFileSync(stateFile(s, name), backup);
        refusedStart(s, new RegExp(`${name.replace('.', '\\.')} is an older copy \\(generation \\d+\\) than the daemon last wrote`));
        writeFileSync(stateFile(s, name), latest);
        const generations = sealedRecords(s, name).map((r) => r.generation as number);
        assert.ok(generations.length >= 2, `${name}: every generation is in the log (${generations.join(', ')})`);
        assert.deepEqual(
          generations,
          generations.map((_, i) => generations[0]! + i),
          `${name}: generations follow one another`,
        );
      }
      // Put back as the daemon last wrote them, they open: the spent approval stays spent, the token revoked.
      assert.equal(s.cli('apply').code, 0);
      const again = await s.govern(refund);
      assert.equal(again.effect, 'DEFER');
      assert.notEqual(again.defer_token, approval);
      assert.doesNotMatch(s.cli('token', 'list').stdout, /\bops\b/);
    });
  });

test('a removed approvals file: the daemon starts without it, says so in the log, and refuses the old copy put back after', async () => {
  await withStack(async (s) => {
    assert.equal(s.cli('apply').code, 0);
    const approval = (await s.govern(refund)).defer_token!;
    assert.equal(s.cli('approvals', 'approve', approval).code, 0);
    const copy = readFileSync(stateFile(s, 'approvals.json'));
    assert.equal(s.cli('apply', '--stop').code, 0);
    rmSync(stateFile(s, 'approvals.json'));
    assert.equal(s.cli('apply').code, 0);
    const removed = sealedRecords(s, 'approvals.json').at(-1)!;
    assert.equal(removed.body_sha256, undefined, 'the record of the removal has no content');
    assert.equal(s.cli('apply', '--stop').code, 0);
    writeFileSync(stateFile(s, 'approvals.json'), copy);
    refusedStart(s, /approvals\.json is a copy from before the daemon found it removed and started without it \(record \d+\)/);
    rmSync(stateFile(s, 'approvals.json'));
    assert.equal(s.cli('apply').code, 0);
    // Started without what it held: the approved call asks a human again (fail closed).
    const again = await s.govern(refund);
    assert.equal(again.effect, 'DEFER');
    assert.notEqual(again.defer_token, approval);
    assert.equal(s.cli('apply', '--stop').code, 0);
    writeFileSync(stateFile(s, 'approvals.json'), copy);
    refusedStart(s, /approvals\.json is an older copy/);
    rmSync(stateFile(s, 'approvals.json'));
    assert.equal(s.cli('apply').code, 0);
    assert.equal(s.cli('audit', 'verify').code, 0);
  });
});

test('quiesced agents are rebuilt from the log, with or without the engine-state snapshot', async () => {
  await withStack(async (s) => {
    assert.equal(s.cli('apply').code, 0);
    assert.equal(s.cli('agent', 'quiesce', 'bot', '--reason', 'incident 7').code, 0);
    assert.equal(s.cli('apply', '--stop').code, 0);
    assert.equal(existsSync(join(s.dir, '.faramesh', 'state', 'agents.json')), false, 'no state file to put back');
    rmSync(stateFile(s, 'engine-state.json'));
    assert.equal(s.cli('apply').code, 0);
    assert.equal((await s.govern(read)).effect, 'DENY', 'still quiesced after a full replay');
    assert.match(s.cli('agent', 'show', 'bot').stdout, /state: +quiesced \(by .* incident 7\)/);
    assert.equal(s.cli('agent', 'resume', 'bot').code, 0);
    assert.equal(s.cli('apply', '--stop').code, 0);
    assert.equal(s.cli('apply').code, 0);
    assert.equal((await s.govern(read)).effect, 'PERMIT', 'resumed, from the snapshot and its tail');
  });
});
