/**
 * A failed log resumes with the engine state rebuilt from it. A permitted call still waiting for its
 * credential has applied its rate and budget use but not recorded it: rebuilt then, its use would be
 * gone, and its record would carry the values without it. The log resumes once no call is so held.
 */
import { mock, test } from 'node:test';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { resumeLog } from '../src/core/log-resume.js';
import { restoreState } from '../src/core/state-snapshot.js';
import type { Issued } from '../src/credentials/broker.js';
import type { StateSeal } from '../src/stack/sealed-state.js';
import { decisionService, issuedSecret } from './decision-service-fixture.js';

const POLICY = `agent "bot" {
  default deny
  rules {
    permit svc/*
  }
  rate_limit "svc/pay": 1 per hour
}
`;

test('the log does not resume while a permitted call waits for its credential: its rate use is kept', async () => {
  let release!: (issued: Issued) => void;
  const issued = issuedSecret();
  const { dir, walDir, log, state, decisions } = await decisionService(POLICY, {
    credentials: (_ir, _agent, tool) => (tool === 'svc/pay' ? new Promise<Issued>((r) => (release = r)) : undefined),
  });
  const seal = {} as StateSeal;
  const resume = () =>
    resumeLog({ log, decisions, state, rebuild: () => restoreState(join(dir, 'state'), walDir, log.size, seal), say: () => {} });
  const pay = () => decisions.govern({ agent_id: 'bot', tool: 'svc/pay', args: {} } as never, 'svc/pay');
  try {
    // The first payment is permitted and waits for its credential; its use of the rate limit is applied.
    const first = pay();
    // The disk fills: another call's record fails, and the daemon refuses calls.
    const m = mock.method(fs, 'fdatasyncSync', () => {
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    });
    syncBuiltinESMExports();
    try {
      assert.equal((await decisions.govern({ agent_id: 'bot', tool: 'svc/read', args: {} } as never, 'svc/read')).effect, 'DENY');
    } finally {
      m.mock.restore();
      syncBuiltinESMExports();
    }
    assert.ok(decisions.degraded, 'the log failed');
    // The disk takes writes again while the payment still waits: the daemon tries to resume.
    resume();
    release(issued);
    await first;
    resume();
    assert.equal(decisions.degraded, undefined, 'deciding again');
    // Whatever became of the first payment, one payment an hour is all the rate limit allows.
    const second = pay();
    await new Promise((r) => setImmediate(r));
    release(issued);
    const results = [await first, await second];
    assert.ok(results.filter((r) => r.effect === 'PERMIT').length <= 1, JSON.stringify(results.map((r) => [r.effect, r.reason_code])));
  } finally {
    await log.close();
  }
});
