import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { readRecords } from '@faramesh/audit';
import { POLICY, sleep, stackOnSmallDisk, until } from './daemon-helpers.js';

// An approval that expires while the log cannot be written was once dropped from the sweep after
// its one failed try: the running daemon never recorded the expiry (only a restart did), so the log
// and `explain run` kept it pending, however long the daemon ran once the disk had room again.
test('an approval that expires while the log is full has its expiry recorded once the log resumes, without a restart', async (t) => {
  const disk = stackOnSmallDisk(
    POLICY.replace('socket  = "./.faramesh/runtime/agent.sock"', 'socket  = "./.faramesh/runtime/agent.sock"\n  approval_ttl = "15s"'),
  );
  if (!disk) return t.skip('mounting a tmpfs needs root');
  const { s, mount } = disk;
  const read = { agent_id: 'bot', tool: 'ticket', operation: 'read', args: {} };
  const expiries = (id: string) =>
    readRecords(join(mount, 'wal')).filter(
      ({ record: r }) => r.type === 'approval_resolved' && r.approval_id === id && r.outcome === 'expired',
    ).length;
  try {
    assert.equal(s.cli('apply').code, 0);
    const deferred = await s.govern({ agent_id: 'bot', tool: 'stripe', operation: 'refund', args: { amount: 3 } });
    assert.equal(deferred.effect, 'DEFER');
    const id = deferred.defer_token!;
    const expiresAt = Date.now() + 15_000;
    assert.ok(await disk.fillLog(), 'the log filled up');
    assert.ok(Date.now() < expiresAt - 1_000, 'the log filled up before the approval expired');
    // The approval expires while nothing can be recorded, and the sweeps try to record it.
    await sleep(expiresAt - Date.now() + 3_000);
    assert.equal(expiries(id), 0);
    rmSync(join(mount, 'filler'));
    let after = await s.govern(read);
    for (const deadline = Date.now() + 20_000; after.reason_code === 'AUDIT_UNAVAILABLE' && Date.now() < deadline; await sleep(250))
      after = await s.govern(read);
    assert.equal(after.effect, 'PERMIT', 'the log resumed');
    await until('the expiry to be recorded', () => expiries(id) === 1, 5_000);
  } finally {
    s.cli('apply', '--stop');
    s.stop();
    disk.unmount();
  }
});
