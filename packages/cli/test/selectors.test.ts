/**
 * Selectors against a real daemon: the source is fetched off the decision path and its value read by
 * the rules; a changed value is picked up at the next refresh; a source that fails keeps the value
 * until its cache runs out, then the rule takes its on_unavailable effect.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { makeStack, RUNTIME, until } from './daemon-helpers.js';

test('a selector is fetched, refreshed, and falls back to on_unavailable when its source fails past its cache', async () => {
  let reply: { status: number; body: string } = { status: 200, body: 'admin\n' };
  let fetches = 0;
  const server = createServer((_req, res) => {
    fetches++;
    res.writeHead(reply.status, { 'content-type': 'text/plain' }).end(reply.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const s = makeStack(`${RUNTIME}
agent "bot" {
  default deny
  selector "user_role" {
    source         = "http://127.0.0.1:${port}/role"
    cache          = "2s"
    on_unavailable = "defer"
  }
  rules {
    permit crm/read if user_role == "admin"
  }
}
`);
  const read = () => s.govern({ agent_id: 'bot', tool: 'crm', operation: 'read', args: {} });
  try {
    assert.equal(s.cli('apply').code, 0);
    await until('the first value to land', async () => (await read()).effect === 'PERMIT');
    // Another value (JSON this time): the rule no longer matches, and the default denies.
    reply = { status: 200, body: '"guest"' };
    await until('the refresh', async () => (await read()).reason_code === 'POLICY_DENY');
    // Back, then the source fails: the last value holds for its cache, then on_unavailable applies.
    reply = { status: 200, body: 'admin' };
    await until('admin again', async () => (await read()).effect === 'PERMIT');
    reply = { status: 503, body: 'down' };
    const failedAt = fetches;
    await until('a failed fetch', () => fetches > failedAt);
    await until('the fallback', async () => (await read()).effect === 'DEFER', 10_000);
    assert.match(readFileSync(join(s.dir, '.faramesh', 'runtime', 'daemon.log'), 'utf8'), /selector user_role \(agent bot\): 503/);
  } finally {
    s.cli('apply', '--stop');
    s.stop();
    server.close();
  }
});

test("a selector's value does not outlive its source: not past a swap to another source, nor past a restart", async () => {
  const server = createServer((_req, res) => res.writeHead(200).end('"admin"'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const up = `http://127.0.0.1:${(server.address() as AddressInfo).port}/role`;
  // Port 1 refuses the connection: a source that is down.
  const policy = (source: string) => `${RUNTIME}
agent "bot" {
  default deny
  selector "user_role" {
    source = "${source}"
  }
  rules {
    permit crm/read if user_role == "admin"
  }
}
`;
  const s = makeStack(policy(up));
  const read = async () => (await s.govern({ agent_id: 'bot', tool: 'crm', operation: 'read', args: {} })).effect;
  try {
    assert.equal(s.cli('apply').code, 0);
    await until('the first value to land', async () => (await read()) === 'PERMIT');
    // The selector now reads another source, which is down: the first source's "admin" is not its value.
    writeFileSync(join(s.dir, 'governance.fms'), policy('http://127.0.0.1:1/role'));
    assert.equal(s.cli('apply').code, 0);
    assert.equal(await read(), 'DENY');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await read(), 'DENY');
    // Back to the first source, then a restart while it is down: the value from before is not kept.
    writeFileSync(join(s.dir, 'governance.fms'), policy(up));
    assert.equal(s.cli('apply').code, 0);
    await until('the value again', async () => (await read()) === 'PERMIT');
    assert.equal(s.cli('apply', '--stop').code, 0);
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    assert.equal(s.cli('apply').code, 0);
    assert.equal(await read(), 'DENY');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await read(), 'DENY');
  } finally {
    s.cli('apply', '--stop');
    s.stop();
    server.close();
  }
});
