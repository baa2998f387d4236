/**
 * An approval is spent by the call that runs under it, in the same step as the decision, and the
 * book is saved before the record is written. When that record cannot be written (a full disk),
 * the call is refused with AUDIT_UNAVAILABLE and the log is cut back to what was acknowledged:
 * nothing ran under the approval, so it must stay for the retry (within its ttl, once), never ask
 * a human again, and never let two calls run.
 */
import { mock, test } from 'node:test';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readRecords } from '@faramesh/audit';
import { resumeLog } from '../src/core/log-resume.js';
import { restoreState } from '../src/core/state-snapshot.js';
import type { Issued } from '../src/credentials/broker.js';
import type { StateSeal } from '../src/stack/sealed-state.js';
import { decisionService, issuedSecret } from './decision-service-fixture.js';

const POLICY = `agent "bot" {
  default deny
  rules {
    defer stripe/refund reason "refunds need a human"
  }
}
`;

const refundOf = (amount: number) => ({ agent_id: 'bot', tool: 'stripe/refund', args: { amount } }) as never;

/** Every sync of the log fails while `f` runs, as on a full disk. */
async function diskFull<T>(f: () => Promise<T>): Promise<T> {
  const m = mock.method(fs, 'fdatasyncSync', () => {
    throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
  });
  syncBuiltinESMExports();
  try {
    return await f();
  } finally {
    m.mock.restore();
    syncBuiltinESMExports();
  }
}

async function setUp(deps: Parameters<typeof decisionService>[1] = {}) {
  const service = await decisionService(POLICY, deps);
  const { dir, walDir, log, state, decisions } = service;
  const resume = () =>
    resumeLog({
      log,
      decisions,
      state,
      rebuild: () => restoreState(join(dir, 'state'), walDir, log.size, {} as StateSeal),
      say: () => {},
    });
  const refund = (amount = 3) => decisions.govern(refundOf(amount), 'stripe/refund');
  const approve = async () => {
    const deferred = await refund();
    assert.equal(deferred.effect, 'DEFER');
    service.approvals.resolve(deferred.defer_token!, 'approved', 'operator', undefined, Date.now());
    return deferred.defer_token!;
  };
  const permits = () => readRecords(walDir).filter((r) => r.record.type === 'decision' && r.record.effect === 'permit');
  return { ...service, resume, refund, approve, permits };
}

test('an approved call whose record the full log cannot write keeps its approval: the retry runs once, without asking again', async () => {
  let saves = 0;
  const { log, decisions, approvals, resume, refund, approve, permits } = await setUp({ saveApprovals: () => void saves++ });
  try {
    const id = await approve();
    const refused = await diskFull(() => refund());
    assert.deepEqual([refused.effect, refused.reason_code], ['DENY', 'AUDIT_UNAVAILABLE']);
    assert.ok(decisions.degraded, 'the log failed');
    assert.equal(approvals.get(id, Date.now())?.used_at, undefined, 'nothing ran under the approval');
    const savedBefore = saves;
    assert.ok(resume(), 'the disk takes writes again');
    const retried = await refund();
    assert.equal(retried.effect, 'PERMIT', `the approval still holds: ${JSON.stringify(retried.structured_denial)}`);
    assert.ok(saves > savedBefore, 'the spend is saved before the call runs');
    assert.equal((await refund()).effect, 'DEFER', 'once');
    const ran = permits();
    assert.equal(ran.length, 1);
    assert.equal((ran[0]!.record.approval as { id: string }).id, id);
  } finally {
    await log.close();
  }
});

test('of two concurrent retries under one approval, only one runs: one written, the other refused, and the approval is not run twice', async () => {
  let release!: (issued: Issued) => void;
  const issued = issuedSecret();
  let fetching = false;
  const { log, decisions, resume, refund, approve, permits } = await setUp({
    credentials: () => (fetching ? new Promise<Issued>((r) => (release = r)) : undefined),
  });
  try {
    await approve();
    // The first retry spends the approval and waits for its credential; the second meanwhile finds
    // it spent and defers (its record is written), then the disk fills before the first is recorded.
    fetching = true;
    const first = refund();
    fetching = false;
    const second = await refund();
    assert.equal(second.effect, 'DEFER', 'the approval is not used twice');
    const refused = await diskFull(async () => {
      release(issued);
      return first;
    });
    assert.deepEqual([refused.effect, refused.reason_code], ['DENY', 'AUDIT_UNAVAILABLE']);
    assert.ok(resume());
    // The operator's approval was never run: the next retry runs under it, once.
    assert.equal((await refund()).effect, 'PERMIT');
    const again = await refund();
    assert.equal(again.effect, 'DEFER');
    assert.equal(again.defer_token, second.defer_token, 'the later deferral still waits');
    assert.equal(permits().length, 1);
    assert.ok(decisions.degraded === undefined);
  } finally {
    await log.close();
  }
});

test('a retry written under its approval spends it even when a concurrent identical call cannot be written', async () => {
  const { log, resume, refund, approve, permits, approvals } = await setUp();
  try {
    await approve();
    assert.equal((await refund()).effect, 'PERMIT');
    const refused = await diskFull(() => refund());
    assert.equal(refused.reason_code, 'AUDIT_UNAVAILABLE');
    assert.ok(resume());
    const again = await refund();
    assert.equal(again.effect, 'DEFER', 'spent by the call that ran');
    assert.equal(permits().length, 1);
    // The deferral the log refused left nothing waiting: only the one now recorded is pending.
    const pending = approvals.list(Date.now()).filter((a) => a.status === 'pending');
    assert.deepEqual(
      pending.map((a) => a.id),
      [again.defer_token],
    );
  } finally {
    await log.close();
  }
});

test('a new deferral the full log cannot record leaves no approval waiting for a call the log never saw', async () => {
  const { log, walDir, resume, refund, approvals } = await setUp();
  try {
    const refused = await diskFull(() => refund(9));
    assert.equal(refused.reason_code, 'AUDIT_UNAVAILABLE');
    assert.deepEqual(
      approvals.list(Date.now()).map((a) => a.status),
      [],
      'nothing waits for a refused call',
    );
    assert.ok(resume());
    const deferred = await refund(9);
    assert.equal(deferred.effect, 'DEFER');
    const a = approvals.get(deferred.defer_token!, Date.now())!;
    const recorded = readRecords(walDir).some((r) => r.record.type === 'decision' && r.record.id === a.action_id);
    assert.ok(recorded, 'the approval names a deferral the log holds');
  } finally {
    await log.close();
  }
});
