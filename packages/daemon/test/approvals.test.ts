import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApprovalBook, PENDING_LIMIT, type Approval } from '../src/core/approvals.js';

const HOUR = 3_600_000;
const call = { agent_id: 'bot', tool: 'stripe/refund', args: { amount: 5 }, binding: 'b1', action_id: 'action-1' };

/** A deferral the test expects the book to take. */
function deferred(book: ApprovalBook, c: Parameters<ApprovalBook['defer']>[0], nowMs: number): Approval {
  const d = book.defer(c, nowMs);
  assert.ok('approval' in d, `refused: ${JSON.stringify(d)}`);
  return d.approval;
}

test('an approval left unspent expires one ttl after it was resolved; a spent one stays spent', () => {
  const book = new ApprovalBook(HOUR, []);
  const t0 = Date.parse('2026-05-17T10:00:00Z');
  const approval = deferred(book, call, t0);
  book.resolve(approval.id, 'approved', 'alice', undefined, t0 + HOUR - 1);
  assert.equal(book.resolvedFor('b1', t0 + 2 * HOUR - 2)?.id, approval.id, 'still good just before its ttl');
  assert.equal(book.resolvedFor('b1', t0 + 2 * HOUR), undefined, 'gone once its ttl from the resolution has passed');
  const lapsed = book.get(approval.id, t0 + 2 * HOUR)!;
  assert.equal(lapsed.status, 'expired');
  assert.deepEqual([lapsed.lapsed, lapsed.resolved_by], ['approved', 'alice'], 'who approved stays in the book');
  assert.deepEqual(
    book.takeExpired(t0 + 2 * HOUR).map((a) => a.id),
    [approval.id],
    'the expiry is reported (and recorded) once',
  );

  const second = deferred(book, { ...call, binding: 'b2' }, t0);
  book.resolve(second.id, 'approved', 'alice', undefined, t0);
  book.spend(book.resolvedFor('b2', t0 + 1)!, t0 + 1);
  assert.equal(book.get(second.id, t0 + 10 * HOUR)?.status, 'approved', 'a spent approval is history, not expired');

  const waited = deferred(book, { ...call, binding: 'b3' }, t0);
  const untouched = book.get(waited.id, t0 + 2 * HOUR)!;
  assert.deepEqual(
    [untouched.status, untouched.resolved_by, untouched.lapsed],
    ['expired', 'ttl', undefined],
    'never resolved: expired by ttl',
  );
});

test('an agent keeps at most PENDING_LIMIT waiting: the next deferral is refused, naming them, until some resolve or expire', () => {
  const book = new ApprovalBook(HOUR, []);
  const t0 = Date.parse('2026-05-17T10:00:00Z');
  const ids = Array.from({ length: PENDING_LIMIT.count }, (_, i) => deferred(book, { ...call, binding: `b${i}` }, t0 + i).id);
  const over = book.defer({ ...call, binding: 'one-more' }, t0 + 1000);
  assert.ok('refused' in over);
  assert.match(over.refused, /100 approvals are already waiting/);
  assert.deepEqual(over.waiting, ids, 'oldest first');
  assert.equal(deferred(book, { ...call, binding: 'b7' }, t0 + 1000).id, ids[7], 'the same call still finds its own approval');
  assert.ok('approval' in book.defer({ ...call, agent_id: 'other', binding: 'o1' }, t0 + 1000), 'another agent is not held up');

  book.resolve(ids[0]!, 'approved', 'alice', undefined, t0 + 2000);
  assert.ok('approval' in book.defer({ ...call, binding: 'one-more' }, t0 + 2000), 'a resolution makes room');
  assert.ok('refused' in book.defer({ ...call, binding: 'two-more' }, t0 + 2000));
  assert.ok('approval' in book.defer({ ...call, binding: 'two-more' }, t0 + HOUR + 50), 'so does an expiry');
  assert.equal(book.get(ids[1]!, t0 + HOUR + 50)?.status, 'expired');

  book.prune(t0 + 9 * 24 * HOUR, HOUR);
  assert.equal(book.get(ids[1]!, t0 + 9 * 24 * HOUR), undefined, 'old expired approvals are pruned');
  assert.equal(book.resolvedFor('b0', t0 + 9 * 24 * HOUR), undefined);
});

test('an agent keeps at most PENDING_LIMIT.bytes of arguments waiting; reloaded pending approvals count', () => {
  const t0 = Date.parse('2026-05-17T10:00:00Z');
  const big = { ...call, args: { blob: 'x'.repeat(PENDING_LIMIT.bytes / 4) } };
  const book = new ApprovalBook(HOUR, []);
  for (let i = 0; i < 3; i++) deferred(book, { ...big, binding: `big${i}` }, t0);
  const over = book.defer({ ...big, binding: 'big3' }, t0);
  assert.ok('refused' in over);
  assert.match(over.refused, /more than 8388608 bytes of arguments/);
  const huge = book.defer({ ...call, agent_id: 'fresh', binding: 'h', args: { blob: 'x'.repeat(PENDING_LIMIT.bytes) } }, t0);
  assert.ok('refused' in huge && huge.waiting.length === 0, 'one call past the limit alone is refused too');

  const reloaded = new ApprovalBook(HOUR, JSON.parse(JSON.stringify(book.toJSON())) as Approval[]);
  assert.ok('refused' in reloaded.defer({ ...big, binding: 'big3' }, t0), 'the limit survives a restart');
});

test('the arguments of an approval done with are dropped after argsMs, its record kept until keepMs', () => {
  const t0 = Date.parse('2026-05-17T10:00:00Z');
  const book = new ApprovalBook(HOUR, []);
  const big = { ...call, args: { blob: 'x'.repeat(100_000) } };
  const expired = deferred(book, { ...big, binding: 'e' }, t0);
  const pending = deferred(book, { ...big, binding: 'p' }, t0 + 2 * HOUR);
  book.get(expired.id, t0 + HOUR + 1);
  book.prune(t0 + HOUR + 30 * 60_000, 7 * 24 * HOUR, HOUR);
  assert.equal(book.get(expired.id, t0 + HOUR + 30 * 60_000)?.args_dropped, undefined, 'within the hour: kept whole');
  book.prune(t0 + 2 * HOUR + 60_000, 7 * 24 * HOUR, HOUR);
  const gone = book.get(expired.id, t0 + 2 * HOUR + 60_000)!;
  assert.deepEqual([gone.status, gone.args, gone.args_dropped], ['expired', {}, true]);
  assert.equal(book.get(pending.id, t0 + 2 * HOUR + 60_000)?.args.blob, big.args.blob, 'a pending approval keeps its arguments');
  assert.ok(JSON.stringify(book.toJSON()).length < 150_000, 'the book no longer holds the expired call');
});

test('an expiry saved in the book before it was recorded is reported again by the book loaded after a restart', () => {
  const t0 = Date.parse('2026-05-17T10:00:00Z');
  const book = new ApprovalBook(HOUR, []);
  const first = deferred(book, call, t0);
  // The identical call after the ttl notices the expiry and defers anew; the daemon saves the book
  // then, and a stop (or crash) comes before the expiry's record.
  const second = deferred(book, call, t0 + HOUR + 1);
  assert.notEqual(second.id, first.id);
  const saved = JSON.parse(JSON.stringify(book.toJSON())) as Approval[];
  const reloaded = new ApprovalBook(HOUR, saved);
  assert.deepEqual(
    reloaded.takeExpired(t0 + HOUR + 2).map((a) => a.id),
    [first.id],
    'the expiry no record holds yet is reported (and recorded) after the restart',
  );

  // Once recorded, it is not reported again.
  for (const a of book.takeExpired(t0 + HOUR + 2)) book.recorded(a);
  const again = new ApprovalBook(HOUR, JSON.parse(JSON.stringify(book.toJSON())) as Approval[]);
  assert.deepEqual(again.takeExpired(t0 + HOUR + 2), [], 'a recorded expiry is reported once');
});

test("an operator's later word holds over an approval kept for a retry: a deny after it is not followed by it", () => {
  const t0 = Date.parse('2026-05-17T10:00:00Z');
  const book = new ApprovalBook(HOUR, []);
  const first = deferred(book, call, t0);
  book.resolve(first.id, 'approved', 'alice', undefined, t0 + 1000);
  // The retry runs under it; an identical call arriving meanwhile defers anew. The retry's credential
  // then fails: its approval is given back for the next retry.
  const spent = book.spend(book.resolvedFor('b1', t0 + 2000)!, t0 + 2000);
  const second = deferred(book, call, t0 + 2100);
  assert.notEqual(second.id, first.id);
  book.unspend(spent);
  book.resolve(second.id, 'denied', 'bob', 'NO, do not refund', t0 + 3000);

  const next = book.resolvedFor('b1', t0 + 4000)!;
  assert.equal(next.id, second.id, 'the deny, resolved last, answers the next call');
  book.spend(next, t0 + 4000);
  assert.equal(book.resolvedFor('b1', t0 + 5000), undefined, 'the approval it replaced is spent with it: the call after defers anew');
  assert.ok(book.get(first.id, t0 + 5000)?.used_at);
});

test('agents without a block of their own share one allowance: a new agent id per call does not escape PENDING_LIMIT', () => {
  const t0 = Date.parse('2026-05-17T10:00:00Z');
  const book = new ApprovalBook(HOUR, []);
  const anon = (i: number) => ({ ...call, agent_id: `anon-${i}`, binding: `a${i}`, top_level: true as const });
  for (let i = 0; i < PENDING_LIMIT.count; i++) deferred(book, anon(i), t0);
  const over = book.defer(anon(PENDING_LIMIT.count), t0);
  assert.ok('refused' in over, 'the 101st agent id is refused');
  assert.match(over.refused, /agents without a block of their own share one allowance: 100 approvals are already waiting/);
  assert.deepEqual(over.waiting, [], "other agents' approval ids are not named");
  assert.ok('approval' in book.defer({ ...call, binding: 'declared' }, t0), 'an agent with its own block keeps its own allowance');

  const reloaded = new ApprovalBook(HOUR, JSON.parse(JSON.stringify(book.toJSON())) as Approval[]);
  assert.ok('refused' in reloaded.defer(anon(PENDING_LIMIT.count), t0), 'the shared allowance survives a restart');
  const big = { blob: 'x'.repeat(PENDING_LIMIT.bytes / 2) };
  const bytes = new ApprovalBook(HOUR, []);
  deferred(bytes, { ...anon(0), args: big }, t0);
  assert.ok('refused' in bytes.defer({ ...anon(1), args: big }, t0), 'the bytes are shared too');
});

test("an operator's resolution stays marked unrecorded until the log holds it, across a reload of the book", () => {
  const t0 = Date.parse('2026-05-17T10:00:00Z');
  const book = new ApprovalBook(HOUR, []);
  const a = deferred(book, call, t0);
  assert.deepEqual(book.unrecordedResolutions(), []);
  book.resolve(a.id, 'approved', 'alice', 'ok', t0 + 1);
  // Saved now, as the daemon saves it before recording: a crash here leaves the mark in the file.
  const reloaded = new ApprovalBook(HOUR, JSON.parse(JSON.stringify(book.toJSON())) as Approval[]);
  assert.deepEqual(
    reloaded.unrecordedResolutions().map((x) => [x.id, x.status, x.resolved_by]),
    [[a.id, 'approved', 'alice']],
  );
  book.resolutionRecorded(book.get(a.id, t0 + 2)!);
  assert.deepEqual(book.unrecordedResolutions(), [], 'recorded: no longer marked');
  const again = new ApprovalBook(HOUR, JSON.parse(JSON.stringify(book.toJSON())) as Approval[]);
  assert.deepEqual(again.unrecordedResolutions(), []);
});
