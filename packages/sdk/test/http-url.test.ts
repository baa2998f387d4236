/**
 * A daemon URL that is not an http(s) URL is a deployment mistake, like no transport at all: the call
 * is DAEMON_UNREACHABLE, which failOpen never runs, not a DAEMON_ERROR telling the agent to retry in
 * 2 s for ever. Whitespace around a URL taken from the environment is not part of it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { governedTools, HttpTransport, ToolDeniedError } from '../src/index.js';

test('a malformed FARAMESH_REMOTE_URL or FARAMESH_BASE_URL is DAEMON_UNREACHABLE, never run by failOpen', async () => {
  const ran: string[] = [];
  for (const env of [
    { FARAMESH_REMOTE_URL: 'not a url' },
    { FARAMESH_BASE_URL: 'localhost:8080' },
    { FARAMESH_REMOTE_URL: 'ftp://host' },
  ]) {
    const tools = governedTools({ t: async () => (ran.push('t'), 'ran') }, { agentId: 'bot', env, failOpen: true });
    const e = (await tools.t().catch((x: unknown) => x)) as ToolDeniedError;
    assert.ok(e instanceof ToolDeniedError, String(e));
    assert.equal(e.code, 'DAEMON_UNREACHABLE', JSON.stringify(env));
    assert.match(e.humanMessage, /needs an http:\/\/ or https:\/\/ URL/);
  }
  assert.deepEqual(ran, []);
  assert.throws(() => new HttpTransport('127.0.0.1:8080'), TypeError);
});

test('HttpTransport: whitespace around the URL is dropped', async () => {
  const server = createServer((req, res) =>
    res.end(JSON.stringify(req.url === '/v1/evaluate' ? { effect: 'PERMIT' } : { effect: 'DENY', reason_code: `asked at ${req.url}` })),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = ` http://127.0.0.1:${(server.address() as AddressInfo).port}/ \n`;
    const tools = governedTools({ t: async () => 'ran' }, { agentId: 'bot', env: { FARAMESH_REMOTE_URL: url } });
    assert.equal(await tools.t(), 'ran');
  } finally {
    server.close();
  }
});
