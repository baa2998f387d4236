/**
 * The phase clock across hot swaps: a policy that only adds (or removes) an agent with no phases
 * changes no phase, so an ended phase stays ended.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RUNTIME, sleep, withStack } from './daemon-helpers.js';

const phased = `${RUNTIME}
agent "bot" {
  default deny
  phase "audit-only" {
    duration = "2s"
    next     = "enforce"
    rules { permit stripe/charge }
  }
  rules {
    deny stripe/charge reason "enforced"
    permit ticket/read
  }
}
`;

const helper = `
agent "helper" {
  default deny
  rules { permit ticket/read }
}
`;

test('adding or removing an agent without phases does not start the phases of another again', async () => {
  await withStack(async (s) => {
    const charge = { agent_id: 'bot', tool: 'stripe', operation: 'charge', args: {} };
    const src = join(s.dir, 'governance.fms');
    assert.equal(s.cli('apply').code, 0);
    assert.equal((await s.govern(charge)).effect, 'PERMIT', 'in the audit-only phase');
    await sleep(2500);
    assert.equal((await s.govern(charge)).effect, 'DENY', 'the phase ended');
    // An agent added before bot, with no phases of its own.
    writeFileSync(src, readFileSync(src, 'utf8').replace('agent "bot"', `${helper}\nagent "bot"`));
    assert.equal(s.cli('apply').code, 0);
    assert.equal((await s.govern(charge)).effect, 'DENY', 'adding an agent does not bring the ended phase back');
    // And removed again.
    writeFileSync(src, phased);
    assert.equal(s.cli('apply').code, 0);
    assert.equal((await s.govern(charge)).effect, 'DENY', 'removing it does not either');
  }, phased);
});
