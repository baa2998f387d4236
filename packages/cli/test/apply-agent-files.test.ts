/**
 * apply writes the agents' files (launcher, agent.env, sandbox plan) only once the running daemon has
 * taken the policy: during a swap that ends refused, an agent the supervisor restarts must start as
 * the policy in force says, never as the refused one would (its agent id, its sandbox profile).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeStack, POLICY } from './daemon-helpers.js';

test('a swap that ends refused never shows its agent.env or launcher to agents, even while it is being decided', async () => {
  const s = makeStack();
  // A SPIFFE Workload API that accepts and never answers: the daemon refuses the swap after its 5 s wait.
  const spire = join(s.dir, 'spire.sock');
  const silent = createServer(() => {}).listen(spire);
  const agentEnv = join(s.dir, '.faramesh', 'runtime', 'agent.env');
  try {
    assert.equal(s.cli('apply').code, 0);
    const before = readFileSync(agentEnv, 'utf8');
    assert.match(before, /FARAMESH_AGENT_ID='bot'/);
    const launcher = readFileSync(join(s.dir, '.faramesh', 'bin', 'agent'), 'utf8');

    writeFileSync(
      join(s.dir, 'governance.fms'),
      `identity "spire" {\n  type = "spiffe"\n  socket = "unix://${spire}"\n  trust_domain = "example.org"\n}\n\n${POLICY.replace('agent "bot"', 'agent "other"')}`,
    );
    const applying = s.cliAsync('apply');
    let seen = 0;
    let done = false;
    void applying.then(() => (done = true));
    while (!done) {
      assert.equal(readFileSync(agentEnv, 'utf8'), before, 'agent.env is the one of the policy in force while the swap is decided');
      seen++;
      await new Promise((r) => setTimeout(r, 20));
    }
    const refused = await applying;
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(refused.stderr, /hot-swap refused/);
    assert.ok(seen > 10, 'the swap was watched while it was decided');
    assert.equal(readFileSync(agentEnv, 'utf8'), before);
    assert.equal(readFileSync(join(s.dir, '.faramesh', 'bin', 'agent'), 'utf8'), launcher);

    // A swap that lands rewrites them.
    writeFileSync(join(s.dir, 'governance.fms'), POLICY.replace('agent "bot"', 'agent "other"'));
    assert.equal(s.cli('apply').code, 0);
    assert.match(readFileSync(agentEnv, 'utf8'), /FARAMESH_AGENT_ID='other'/);
    // An apply with nothing to swap writes them again (mending files lost since).
    rmSync(agentEnv);
    const again = s.cli('apply');
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /no changes/);
    assert.match(readFileSync(agentEnv, 'utf8'), /FARAMESH_AGENT_ID='other'/);
  } finally {
    s.cli('apply', '--stop');
    silent.close();
    s.stop();
  }
});
