import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { POLICY, sleep, stackOnSmallDisk, until } from './daemon-helpers.js';

// When the record that found the log full was an operator's approve (no agent call failed), the
// daemon once stayed unmarked: `status` said it was healthy, the log was never resumed, and every
// approve after the disk had room was refused again, while the agent polled `pending`, until some
// agent happened to make a call.
test('an approve the full log refuses marks the daemon degraded; once the disk has room the log resumes and the approve goes through', async (t) => {
  const disk = stackOnSmallDisk(POLICY);
  if (!disk) return t.skip('mounting a tmpfs needs root');
  const { s, mount } = disk;
  const wal = join(mount, 'wal');
  // Bytes left in the active segment's preallocated tail: once they are used up, the next write fails.
  const room = () => {
    const segment = readFileSync(
      join(
        wal,
        readdirSync(wal)
          .filter((f) => f.endsWith('.wal'))
          .sort()
          .pop()!,
      ),
    );
    let end = segment.length;
    while (end > 0 && segment[end - 1] === 0) end--;
    return segment.length - end;
  };
  try {
    assert.equal(s.cli('apply').code, 0);
    const ids: string[] = [];
    for (let amount = 1; amount <= 8; amount++)
      ids.push((await s.govern({ agent_id: 'bot', tool: 'stripe', operation: 'refund', args: { amount } })).defer_token!);
    disk.fill();
    // Calls use the room up to less than one of their records, so no call fails; then the operator approves.
    while (room() > 600) assert.equal((await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: {} })).effect, 'PERMIT');
    let refused: string | undefined;
    for (const id of ids) if (s.cli('approvals', 'approve', id).code !== 0 && (refused = id)) break;
    assert.ok(refused, 'an approve found the log full');
    await until('status to say the log failed', () => s.cli('status', '-q').code === 3, 5_000);
    rmSync(join(mount, 'filler'));
    let approved = s.cli('approvals', 'approve', refused);
    for (const deadline = Date.now() + 20_000; approved.code !== 0 && Date.now() < deadline; await sleep(500))
      approved = s.cli('approvals', 'approve', refused);
    assert.equal(approved.code, 0, approved.stderr);
    assert.equal(s.cli('status', '-q').code, 0);
    const poll = JSON.parse(await s.raw(JSON.stringify({ type: 'poll_defer', agent_id: 'bot', defer_token: refused }))) as {
      status: string;
    };
    assert.equal(poll.status, 'approved');
  } finally {
    s.cli('apply', '--stop');
    s.stop();
    disk.unmount();
  }
});
