import { test } from 'node:test';
import assert from 'node:assert/strict';
import { governedTools, ToolDeniedError, type ApprovalStatus, type GovernResult, type Transport } from '../src/index.js';

/** A daemon whose approvals expire unresolved at the first poll, each deferral making a new one (as the daemon does). */
function expiringDaemon(approveFrom: number, lost: ApprovalStatus = 'expired'): Transport & { asked: number } {
  const t = {
    asked: 0,
    govern: async (): Promise<GovernResult> => {
      const n = ++t.asked;
      if (n > approveFrom) return { call_id: 'c', action_id: `a${n}`, effect: 'PERMIT' };
      return {
        call_id: 'c',
        action_id: `a${n}`,
        effect: 'DEFER',
        defer_token: `apr-${n}`,
        structured_denial: {
          code: 'POLICY_DEFER',
          human_message: 'refunds need a human',
          resolution: { type: 'pending_approval', approval_id: `apr-${n}` },
        },
      };
    },
    // The first approval expires; the one made when the call is asked again is approved.
    poll: async (id: string): Promise<ApprovalStatus> => (id === 'apr-1' ? lost : id === `apr-${approveFrom}` ? 'approved' : 'pending'),
  };
  return t;
}

test("onDefer 'block': an approval that expires unresolved is asked again, and the wait goes on for the new one", async () => {
  const daemon = expiringDaemon(2);
  const tools = governedTools(
    { refund: async () => 'refunded' },
    { agentId: 'bot', transport: daemon, onDefer: 'block', pollIntervalMs: 5 },
  );
  assert.equal(await tools.refund(), 'refunded');
  assert.equal(daemon.asked, 3, 'deferred, deferred anew after the expiry, then permitted once approved');
});

test("onDefer 'block': out of time after an expiry, the denial names the approval now pending, not the expired one", async () => {
  const daemon = expiringDaemon(Infinity);
  const e = await governedTools(
    { refund: async () => 'x' },
    { agentId: 'bot', transport: daemon, onDefer: 'block', pollIntervalMs: 5, approvalTimeoutMs: 40 },
  )
    .refund()
    .catch((x: unknown) => x);
  assert.ok(e instanceof ToolDeniedError);
  assert.equal(e.code, 'POLICY_DEFER');
  assert.notEqual(e.approvalId, 'apr-1', 'apr-1 expired: no operator can resolve it');
  assert.deepEqual(e.resolution, { type: 'pending_approval', approvalId: e.approvalId });
});

test("onDefer 'block': an approval the daemon no longer knows is asked again too, not thrown naming it", async () => {
  const daemon = expiringDaemon(2, 'unknown');
  const tools = governedTools(
    { refund: async () => 'refunded' },
    { agentId: 'bot', transport: daemon, onDefer: 'block', pollIntervalMs: 5 },
  );
  assert.equal(await tools.refund(), 'refunded');
  assert.equal(daemon.asked, 3);
});

test("onDefer 'block': a daemon that knows none of its approvals ends the wait after asking once more", async () => {
  const daemon = expiringDaemon(Infinity, 'unknown');
  daemon.poll = async () => 'unknown';
  const e = await governedTools({ refund: async () => 'x' }, { agentId: 'bot', transport: daemon, onDefer: 'block', pollIntervalMs: 5 })
    .refund()
    .catch((x: unknown) => x);
  assert.ok(e instanceof ToolDeniedError);
  assert.match(e.message, /approval unknown/);
  assert.equal(daemon.asked, 2, 'asked once more, not without end');
});
