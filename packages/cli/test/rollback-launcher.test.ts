/** A rollback leaves the launcher and agent.env of the version it rolled back to, as apply would have. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withStack } from './daemon-helpers.js';

const policy = (stripEnv: string, agents: string[]) =>
  `runtime {\n  wal_dir = "./wal"\n  socket  = "./.faramesh/runtime/agent.sock"\n${stripEnv}}\n\n` +
  agents.map((a) => `agent "${a}" {\n  default deny\n  rules { permit ticket/read }\n}\n`).join('\n');

test('rollback rewrites the launcher and agent.env for the version it re-applies', async () => {
  await withStack(async (s) => {
    const src = join(s.dir, 'governance.fms');
    const launcher = join(s.dir, '.faramesh', 'bin', 'agent');
    const agentEnv = join(s.dir, '.faramesh', 'runtime', 'agent.env');
    // v1: one agent, and the launcher strips MY_SECRET_*.
    writeFileSync(src, policy('  strip_env = ["MY_SECRET_*"]\n', ['bot']));
    assert.equal(s.cli('apply').code, 0);
    assert.match(readFileSync(launcher, 'utf8'), /MY_SECRET_\*/);
    assert.match(readFileSync(agentEnv, 'utf8'), /FARAMESH_AGENT_ID='bot'/);
    // v2: two agents, nothing extra stripped.
    writeFileSync(src, policy('', ['bot', 'other']));
    assert.equal(s.cli('apply').code, 0);
    assert.doesNotMatch(readFileSync(launcher, 'utf8'), /MY_SECRET_\*/);
    assert.doesNotMatch(readFileSync(agentEnv, 'utf8'), /FARAMESH_AGENT_ID/);
    // Back to v1: its launcher strips again, and agent.env names its single agent.
    const back = s.cli('rollback', '--to', 'v1');
    assert.equal(back.code, 0, back.stderr);
    assert.match(readFileSync(launcher, 'utf8'), /MY_SECRET_\*/, "the launcher is v1's");
    assert.match(readFileSync(agentEnv, 'utf8'), /FARAMESH_AGENT_ID='bot'/, "agent.env is v1's");
    // And forward again.
    assert.equal(s.cli('rollback', '--to', 'v2').code, 0);
    assert.doesNotMatch(readFileSync(launcher, 'utf8'), /MY_SECRET_\*/);
  });
});
