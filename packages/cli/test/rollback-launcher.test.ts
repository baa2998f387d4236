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

test('over HTTP, a rollback to a version whose agents run otherwise is refused (nobody there rewrites the launcher); one that differs in rules alone goes through', async () => {
  await withStack(async (s) => {
    const src = join(s.dir, 'governance.fms');
    const http = '  http_listen = "127.0.0.1:0"\n';
    const rules = (tool: string) => (a: string) => `agent "${a}" {\n  default deny\n  rules { permit ${tool} }\n}\n`;
    const versions = [
      `runtime {\n  wal_dir = "./wal"\n  socket  = "./.faramesh/runtime/agent.sock"\n${http}  strip_env = ["MY_SECRET_*"]\n}\n\n${rules('ticket/read')('bot')}`,
      `runtime {\n  wal_dir = "./wal"\n  socket  = "./.faramesh/runtime/agent.sock"\n${http}}\n\n${rules('ticket/read')('bot')}`,
      `runtime {\n  wal_dir = "./wal"\n  socket  = "./.faramesh/runtime/agent.sock"\n${http}}\n\n${rules('ticket/write')('bot')}`,
    ];
    for (const v of versions) {
      writeFileSync(src, v);
      assert.equal(s.cli('apply').code, 0);
    }
    const token = (JSON.parse(s.cli('token', 'issue', '--operator', '--name', 'alice', '--format', 'json').stdout) as { token: string })
      .token;
    const url = (JSON.parse(s.cli('status', '--format', 'json').stdout) as { daemon: { http: string } }).daemon.http;
    const rollback = async (to: string) =>
      (await (
        await fetch(`${url}/v1/operator`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ method: 'rollback', params: { to, by: 'x' } }),
        })
      ).json()) as { ok: boolean; error?: { code: string; message: string } };
    const refused = await rollback('v1');
    assert.equal(refused.ok, false);
    assert.equal(refused.error?.code, 'forbidden');
    assert.match(refused.error!.message, /faramesh rollback on the daemon's host/);
    assert.equal((await rollback('v2')).ok, true, 'the same runtime and enforcement: no launcher to rewrite');
  });
});
