import { test } from 'node:test';
import assert from 'node:assert/strict';
import { watch } from 'node:fs';
import { join } from 'node:path';
import { readRecords } from '@faramesh/audit';
import { appliedStack, POLICY, sleep } from './daemon-helpers.js';

const refund = (amount: number) => ({ agent_id: 'bot', tool: 'stripe', operation: 'refund', args: { amount } });
const resolvedIn = (wal: string, id: string) =>
  readRecords(wal).filter(({ record: r }) => r.type === 'approval_resolved' && r.approval_id === id).length;

// The book is saved before the approval_resolved record is written. A daemon killed between the two
// must not come back honouring an approval the log never heard of: the next start records it.
test('an approve interrupted by a crash after the book was saved is recorded at the next start; the call runs under it and audit verify stays green', async () => {
  const s = appliedStack(POLICY);
  const wal = join(s.dir, 'wal');
  try {
    let caught: string | undefined;
    // The kill must land after the book's rename and before the log's fsync: a try that loses the race is made again.
    for (let attempt = 0; attempt < 10 && !caught; attempt++) {
      const id = (await s.govern(refund(100 + attempt))).defer_token!;
      const pid = s.pid();
      const watcher = watch(join(s.dir, '.faramesh', 'state'), (_ev, name) => {
        if (name !== 'approvals.json') return;
        watcher.close();
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      });
      const approved = await s.cliAsync('approvals', 'approve', id, '--reason', 'checked');
      watcher.close();
      assert.notEqual(approved.code, 0, 'the operator hears no success from a killed daemon');
      for (let i = 0; i < 100 && alivePid(pid); i++) await sleep(20);
      if (resolvedIn(wal, id) === 0) caught = id;
      const restarted = s.cli('apply');
      assert.equal(restarted.code, 0, restarted.stderr);
    }
    assert.ok(caught, 'the kill never landed between the save and the record');
    const shown = JSON.parse(s.cli('approvals', 'show', caught, '--json').stdout) as { status: string; args: { amount: number } };
    assert.equal(shown.status, 'approved', 'the book kept the operator’s decision');
    assert.equal(resolvedIn(wal, caught), 1, 'the start recorded it');
    const retried = await s.govern(refund(shown.args.amount));
    assert.equal(retried.effect, 'PERMIT');
    const verified = s.cli('audit', 'verify');
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});

function alivePid(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
