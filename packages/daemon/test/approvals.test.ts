import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApprovalBook } from '../src/core/approvals.js';

const HOUR = 3_600_000;
const call = { agent_id: 'bot', tool: 'stripe/refund', args: { amount: 5 }, binding: 'b1', action_id: 'action-1' };

test('an approval left unspent expires one ttl after it was resolved; a spent one stays spent', () => {
  const book = new ApprovalBook(HOUR, []);
  const t0 = Date.parse('2026-05-17T10:00:00Z');
  const { approval } = book.defer(call, t0);
  book.resolve(approval.id, 'approved', 'alice', undefined, t0 + HOUR - 1);
  assert.equal(book.resolvedFor('b1', t0 + 2 * HOUR - 2)?.id, approval.id, 'still good just before its ttl');
  assert.equal(book.resolvedFor('b1', t0 + 2 * HOUR), undefined, 'gone once its ttl from the resolution has passed');
  assert.equal(book.get(approval.id, t0 + 2 * HOUR)?.status, 'expired');
  assert.deepEqual(
    book.takeExpired(t0 + 2 * HOUR).map((a) => a.id),
    [approval.id],
    'the expiry is reported (and recorded) once',
  );

  const second = book.defer({ ...call, binding: 'b2' }, t0).approval;
  book.resolve(second.id, 'approved', 'alice', undefined, t0);
  book.spend(book.resolvedFor('b2', t0 + 1)!, t0 + 1);
  assert.equal(book.get(second.id, t0 + 10 * HOUR)?.status, 'approved', 'a spent approval is history, not expired');
});
