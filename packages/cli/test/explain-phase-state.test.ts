/**
 * An operator can see where each phase stands: `status` says which is active until when and which
 * ended when, and `explain agent` numbers an active phase's rules first but sets an ended phase's
 * apart, since they decide nothing any more. Checked against what the daemon then decides.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RUNTIME, withStack } from './daemon-helpers.js';

const POLICY = `${RUNTIME}
agent "bot" {
  default deny
  phase "canary" {
    duration = "1s"
    next     = "wide"
    rules {
      permit pay/canary
    }
  }
  phase "wide" {
    duration = "1h"
    next     = "enforce"
    rules {
      permit pay/wide
    }
  }
  rules {
    deny ticket/close
  }
}
`;

interface Phase {
  agent: string;
  name: string;
  state: string;
  next?: string;
  starts_at?: string;
  ends_at?: string;
}

test('status and explain agent show an ended phase as ended and the active one with its end', async () => {
  await withStack(async (s) => {
    assert.equal(s.cli('apply').code, 0);
    // The first phase lasts a second from the apply; the daemon's clock hands over to the second.
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await s.govern({ agent_id: 'bot', tool: 'pay/canary' })).effect, 'DENY', 'the ended phase decides nothing');
    assert.equal((await s.govern({ agent_id: 'bot', tool: 'pay/wide' })).effect, 'PERMIT');

    const json = JSON.parse(s.cli('status', '--format', 'json').stdout) as { phases: Phase[] };
    const [canary, wide] = json.phases;
    assert.equal(canary?.state, 'ended');
    assert.equal(wide?.state, 'active');
    assert.equal(canary.ends_at, wide.starts_at, 'the second phase begins as the first ends');
    assert.equal(Date.parse(wide.ends_at!) - Date.parse(wide.starts_at!), 3600_000);
    const text = s.cli('status').stdout;
    assert.match(text, new RegExp(`Phases\\n {2}canary \\(bot\\) +ended at ${canary.ends_at!.replace(/\./g, '\\.')}, then wide\\n`));
    assert.match(text, new RegExp(`wide \\(bot\\) +active until ${wide.ends_at!.replace(/\./g, '\\.')}, then enforce`));

    const agent = s.cli('explain', 'agent', 'bot').stdout;
    assert.match(agent, / 1\. governance\.fms:\d+ +permit pay\/wide +\(phase "wide"\)\n +2\. governance\.fms:\d+ +deny +ticket\/close\n/);
    assert.doesNotMatch(agent, /\d\. governance\.fms:\d+ +permit pay\/canary/, 'the ended phase is not numbered among the rules tried');
    assert.match(agent, /"canary" {2}ended at \S+, then wide\n +governance\.fms:\d+ +permit pay\/canary +\(not tried now\)/);
    assert.match(agent, /"wide" {2}active until \S+, then enforce: its rules are tried first/);
    const ajson = JSON.parse(s.cli('explain', 'agent', 'bot', '--format', 'json').stdout) as {
      rules: { text: string; phase?: string }[];
      phases: { name: string; state: string; ends_at?: string }[];
    };
    assert.deepEqual(
      ajson.rules.map((r) => r.text),
      ['permit pay/wide', 'deny   ticket/close'],
    );
    assert.deepEqual(
      ajson.phases.map((p) => `${p.name}:${p.state}`),
      ['canary:ended', 'wide:active'],
    );

    // With no daemon, nothing times the phases: explain says so instead of guessing.
    assert.equal(s.cli('apply', '--stop').code, 0);
    const stopped = s.cli('explain', 'agent', 'bot').stdout;
    assert.match(stopped, /"wide" {2}timed by the running daemon \(none runs\)/);
  }, POLICY);
});
