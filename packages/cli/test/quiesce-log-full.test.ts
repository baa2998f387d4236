import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { POLICY, sleep, stackOnSmallDisk } from './daemon-helpers.js';

// The quiesced agents are rebuilt from the log when it resumes after a full disk. A quiesce the log
// could not record was once kept in memory only, shown by `agent list`, and answered "internal
// error": then, once the disk took writes again, the agent was silently active again.
test('a quiesce the full log cannot record is refused and taken back, never lifted unsaid when the log resumes', async (t) => {
  const disk = stackOnSmallDisk(POLICY);
  if (!disk) return t.skip('mounting a tmpfs needs root');
  const { s, mount } = disk;
  const read = { agent_id: 'bot', tool: 'ticket', operation: 'read', args: {} };
  try {
    assert.equal(s.cli('apply').code, 0);
    assert.ok(await disk.fillLog(), 'the log filled up');
    const quiesce = s.cli('agent', 'quiesce', 'bot', '--reason', 'runaway');
    assert.notEqual(quiesce.code, 0);
    assert.match(quiesce.stderr + quiesce.stdout, /the audit log could not record it .*: agent bot is still active/);
    assert.match(s.cli('agent', 'list').stdout, /bot\s+active/, 'not shown quiesced while it is not');
    rmSync(join(mount, 'filler'));
    let after = await s.govern(read);
    for (const deadline = Date.now() + 20_000; after.reason_code === 'AUDIT_UNAVAILABLE' && Date.now() < deadline; await sleep(250))
      after = await s.govern(read);
    assert.equal(after.effect, 'PERMIT', 'the log resumed');
    // Recorded now, the quiesce holds, across the next start too.
    assert.equal(s.cli('agent', 'quiesce', 'bot').code, 0);
    assert.equal((await s.govern(read)).effect, 'DENY');
    assert.equal(s.cli('apply', '--stop').code, 0);
    assert.equal(s.cli('apply').code, 0);
    assert.equal((await s.govern(read)).effect, 'DENY');
  } finally {
    s.cli('apply', '--stop');
    s.stop();
    disk.unmount();
  }
});
