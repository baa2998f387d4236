import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TaskBook } from '../src/mcp/tasks.js';

test('TaskBook: ends, TTL expiry as a RUNTIME_GAP, abandoned sessions, and which open tasks count as writes', async () => {
  const events: [string, string, string | undefined][] = [];
  const book = new TaskBook((e) => events.push([e.task_id, e.status, e.code]));
  const base = { agent: 'a', server: 's', tool: 's/t' };
  book.started('one', { ...base, taskId: 'done', writes: true, ttlMs: 60_000 });
  book.started('one', { ...base, taskId: 'reader', writes: false, ttlMs: null });
  book.started('one', { ...base, taskId: 'short', writes: true, ttlMs: 30 });
  book.started('two', { ...base, taskId: 'left', writes: true });
  assert.deepEqual(book.openWrites('a').sort(), ['s/done', 's/left', 's/short'], 'read-only tools write nothing');
  assert.deepEqual(book.openWrites('b'), []);
  book.ended('one', 'done', 'completed');
  book.ended('one', 'done', 'failed');
  book.ended('two', 'reader', 'completed');
  await new Promise((r) => setTimeout(r, 80));
  book.sessionClosed('two');
  assert.deepEqual(book.openWrites('a'), []);
  assert.deepEqual(events, [
    ['done', 'working', undefined],
    ['reader', 'working', undefined],
    ['short', 'working', undefined],
    ['left', 'working', undefined],
    ['done', 'completed', undefined],
    ['short', 'expired', 'RUNTIME_GAP'],
    ['left', 'abandoned', 'RUNTIME_GAP'],
  ]);
  book.close();
});

test('TaskBook: a remote server may still run what a closed session left: its writes hold the completion gate until their TTL', async () => {
  const events: [string, string][] = [];
  const book = new TaskBook((e) => events.push([e.task_id, e.status]));
  const base = { agent: 'a', server: 'web', tool: 'web/t' };
  book.started('s1', { ...base, taskId: 'write', writes: true, ttlMs: 60 });
  book.started('s1', { ...base, taskId: 'untimed', writes: true });
  book.started('s1', { ...base, taskId: 'read', writes: false, ttlMs: 60 });
  book.sessionClosed('s1', true);
  assert.deepEqual(
    events.filter(([, s]) => s === 'abandoned').map(([id]) => id),
    ['write', 'untimed', 'read'],
    'the log says at once what it cannot follow',
  );
  assert.deepEqual(book.openWrites('a').sort(), ['web/untimed', 'web/write'], 'but the agent cannot complete past them');
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(book.openWrites('a'), ['web/untimed'], 'a task past its TTL is done holding; one without a TTL holds an hour');
  book.close();
  assert.deepEqual(book.openWrites('a'), []);
});

test('TaskBook: a TTL longer than a Node timer holds (~25 days) does not expire the task at once', async () => {
  const events: [string, string][] = [];
  const book = new TaskBook((e) => events.push([e.task_id, e.status]));
  const base = { agent: 'a', server: 's', tool: 's/t', writes: true };
  book.started('one', { ...base, taskId: 'month', ttlMs: 30 * 86_400_000 });
  book.started('remote', { ...base, taskId: 'orphan', ttlMs: 40 * 86_400_000 });
  book.sessionClosed('remote', true);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(book.openWrites('a').sort(), ['s/month', 's/orphan'], 'both still hold the completion gate');
  assert.deepEqual(events, [
    ['month', 'working'],
    ['orphan', 'working'],
    ['orphan', 'abandoned'],
  ]);
  book.close();
});

test('TaskBook: a permitted call awaiting its answer is a write under way until answered, or its session ends', () => {
  const book = new TaskBook(() => {});
  book.callSent('s1', 1, 'a', 'fs/write_file');
  book.callSent('s1', '1', 'a', 'fs/move_file');
  book.callSent('s2', 1, 'b', 'fs/write_file');
  assert.deepEqual(book.openWrites('a'), ['call 1 to fs/write_file', 'call "1" to fs/move_file'], 'ids 1 and "1" are two calls');
  book.callAnswered('s1', 1);
  assert.deepEqual(book.openWrites('a'), ['call "1" to fs/move_file']);
  book.sessionClosed('s1');
  assert.deepEqual(book.openWrites('a'), []);
  assert.deepEqual(book.openWrites('b'), ['call 1 to fs/write_file'], 'another session is untouched');
  book.close();
  assert.deepEqual(book.openWrites('b'), []);
});
