import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readRecords } from '@faramesh/audit';
import { Governor, HttpTransport, SocketTransport } from '@faramesh/sdk';
import { freePort, makeStack } from './daemon-helpers.js';

const policy = (port: number) => `runtime {
  wal_dir     = "./wal"
  socket      = "./.faramesh/runtime/agent.sock"
  http_listen = "127.0.0.1:${port}"
}

agent "lead" {
  default deny
  rules {
    permit spawn/*
  }
  spawn {
    max_concurrent = 2
    allowed_types  = ["analyst"]
  }
}

agent "other" {
  default deny
}
`;

const spawnAnalyst = { agent_id: 'lead', tool: 'spawn', operation: 'analyst', args: {} };

test('spawn { max_concurrent } counts live children: an ended child (said by the agent over the socket, the SDK or HTTP, or by an operator) frees its place, durably', async () => {
  const port = await freePort();
  const s = makeStack(policy(port));
  try {
    assert.equal(s.cli('apply').code, 0);
    const effects = async (n: number) => {
      const out: string[] = [];
      for (let i = 0; i < n; i++) out.push((await s.govern(spawnAnalyst)).effect);
      return out;
    };
    assert.deepEqual(await effects(3), ['PERMIT', 'PERMIT', 'DENY'], 'two live children at most');

    // The agent says one child ended: one place is free again, and only one.
    const ended = JSON.parse(await s.raw(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'spawn_ended', params: { agent_id: 'lead' } })));
    assert.deepEqual(ended, { jsonrpc: '2.0', id: 7, result: { agent_id: 'lead', ended: 1, live: 1 } });
    assert.deepEqual(await effects(2), ['PERMIT', 'DENY']);

    // Malformed counts change nothing.
    for (const count of [0, -1, 1.5, '2', 1001]) {
      const bad = JSON.parse(
        await s.raw(JSON.stringify({ jsonrpc: '2.0', id: 8, method: 'spawn_ended', params: { agent_id: 'lead', count } })),
      );
      assert.equal(bad.error?.code, -32602, JSON.stringify(count));
    }

    // The SDK over the socket, then over HTTP.
    const viaSocket = new Governor({ agentId: 'lead', transport: new SocketTransport(s.socket) });
    assert.deepEqual(await viaSocket.spawnEnded(), { ended: 1, live: 1 });
    const viaHttp = new Governor({ agentId: 'lead', transport: new HttpTransport(`http://127.0.0.1:${port}`) });
    assert.deepEqual(await viaHttp.spawnEnded(5), { ended: 1, live: 0 }, 'never below none live');
    // None live: refused, nothing recorded.
    await assert.rejects(viaSocket.spawnEnded(), /has no live spawned children/);
    await assert.rejects(viaHttp.spawnEnded(), /409/);
    assert.deepEqual(await effects(3), ['PERMIT', 'PERMIT', 'DENY']);

    // Restarted on the same log, the count is what it was: both places taken.
    assert.equal(s.cli('apply', '--stop').code, 0);
    assert.equal(s.cli('apply').code, 0);
    assert.deepEqual(await effects(1), ['DENY']);
    const shown = JSON.parse(s.cli('agent', 'show', 'lead', '--format', 'json').stdout);
    assert.deepEqual(shown.spawns, { live: 2, max_concurrent: 2 });

    // An operator frees the places of children that died without saying so; the record names them.
    const op = s.cli('agent', 'spawn-ended', 'lead', '--count', '2', '--format', 'json');
    assert.equal(op.code, 0, op.stderr);
    assert.deepEqual(JSON.parse(op.stdout), { agent_id: 'lead', ended: 2, live: 0 });
    assert.equal(s.cli('agent', 'spawn-ended', 'lead').code, 4, 'none live');
    assert.equal(s.cli('agent', 'spawn-ended', 'nobody').code, 4, 'no such agent');
    assert.equal(s.cli('agent', 'spawn-ended', 'lead', '--count', 'x').code, 64);
    assert.deepEqual(await effects(1), ['PERMIT']);

    const deltas = [...readRecords(join(s.dir, 'wal'))].map((r) => r.record).filter((r) => r.type === 'state_delta');
    const ends = deltas.filter((r) => JSON.stringify(r.delta).includes('"live":0'));
    assert.ok(
      ends.some((r) => typeof r.by === 'string'),
      'the operator is named',
    );
    assert.equal(s.cli('apply', '--stop').code, 0);
    assert.equal(s.cli('audit', 'verify').code, 0, 'the log verifies with these records');
  } finally {
    s.stop();
  }
});

test('spawn_ended speaks only for the agent a channel belongs to', async () => {
  const port = await freePort();
  const s = makeStack(policy(port));
  try {
    assert.equal(s.cli('apply').code, 0);
    const token = s.cli('token', 'issue', '--agent', 'other', '--name', 'o', '--format', 'json');
    assert.equal(token.code, 0, token.stderr);
    const secret = String(JSON.parse(token.stdout).token);
    const res = await fetch(`http://127.0.0.1:${port}/v1/spawn_ended`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ agent_id: 'lead' }),
    });
    assert.equal(res.status, 403);
  } finally {
    s.stop();
  }
});
