import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Appended } from '@faramesh/audit';
import { RecordFeed } from '../src/core/record-feed.js';

const rec = (seq: number, agent: string, effect: 'permit' | 'deny' = 'permit'): [Appended, Buffer] => {
  const r = { type: 'decision', seq, agent_id: agent, tool: 't', effect, id: String(seq), time: '', lamport_seq: 0, prev_hash: '' };
  return [r as unknown as Appended, Buffer.from(JSON.stringify(r))];
};
const seqs = (records: string[]) => records.map((j) => (JSON.parse(j) as { seq: number }).seq);

test('the last N matching records, then pages after a position; a window that moved on says how much it skipped', async () => {
  const feed = new RecordFeed(10, 4);
  for (let s = 10; s < 16; s++) feed.push(...rec(s, s % 2 ? 'a' : 'b'));
  // The window holds 12..15.
  assert.deepEqual(seqs((await feed.tail({ limit: 3 })).records), [13, 14, 15]);
  assert.deepEqual(seqs((await feed.tail({ agent: 'a' })).records), [13, 15]);
  assert.equal((await feed.tail({})).next, 16);
  const behind = await feed.tail({ after: 10 });
  assert.equal(behind.skipped, 2);
  assert.deepEqual(seqs(behind.records), [12, 13, 14, 15]);
  // A page stops at the limit and continues where it stopped.
  const first = await feed.tail({ after: 12, limit: 2 });
  assert.deepEqual(seqs(first.records), [12, 13]);
  assert.equal(first.next, 14);
  assert.deepEqual(seqs((await feed.tail({ after: first.next })).records), [14, 15]);
  // Filtered-out records still move the position on.
  const none = await feed.tail({ after: 14, effect: 'deny' });
  assert.deepEqual(none.records, []);
  assert.equal(none.next, 16);
});

test('a poll waits for the next matching record, gives up at its deadline, and returns at once on close', async () => {
  const feed = new RecordFeed(0);
  const waiting = feed.tail({ after: 0, wait_ms: 5000, effect: 'deny' });
  feed.push(...rec(0, 'a'));
  setTimeout(() => feed.push(...rec(1, 'a', 'deny')), 20);
  const page = await waiting;
  assert.deepEqual(seqs(page.records), [1]);
  assert.equal(page.next, 2);

  const t0 = Date.now();
  assert.deepEqual((await feed.tail({ after: 2, wait_ms: 60 })).records, []);
  assert.ok(Date.now() - t0 >= 50);
  assert.equal((feed as unknown as { waiters: Set<unknown> }).waiters.size, 0, 'a timed-out poll leaves no waiter');

  const open = feed.tail({ after: 2, wait_ms: 20_000 });
  feed.close();
  assert.deepEqual((await open).records, []);
});
