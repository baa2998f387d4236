/**
 * HttpTransport: a redirect from FARAMESH_REMOTE_URL is never followed. Another origin's answer is
 * not the daemon's decision, and a 307/308 would hand it the request body (args, principal token).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { governedTools, HttpTransport, ToolDeniedError } from '../src/index.js';

const listen = async (s: Server, host: string) => {
  await new Promise<void>((r) => s.listen(0, host, r));
  return `http://${host}:${(s.address() as AddressInfo).port}`;
};

test('HTTP: a 302/307/308 from the daemon URL is a denial; the other host hears nothing', async () => {
  const heard: string[] = [];
  const other = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      heard.push(`${req.method} ${body}`);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ effect: 'PERMIT' }));
    });
  });
  const otherUrl = await listen(other, '127.0.0.1');
  let status = 302;
  const daemon = createServer((req, res) => {
    req.resume();
    res.writeHead(status, { location: `${otherUrl}${req.url}` });
    res.end();
  });
  const daemonUrl = await listen(daemon, '127.0.0.1');
  try {
    for (status of [301, 302, 303, 307, 308]) {
      let ran = false;
      const tools = governedTools(
        { act: async (_: { amount: number }) => (ran = true) },
        { agentId: 'a', principalToken: 'jwt-secret', transport: new HttpTransport(daemonUrl, { token: 'tok' }), timeoutMs: 2000 },
      );
      const e = await tools.act({ amount: 1 }).catch((x: unknown) => x);
      assert.ok(e instanceof ToolDeniedError, `${status}: ${String(e)}`);
      assert.equal(e.code, 'DAEMON_ERROR');
      assert.match(e.humanMessage, new RegExp(`${status}`));
      assert.equal(ran, false, `${status}: the tool ran on another host's answer`);
    }
    assert.deepEqual(heard, []);
  } finally {
    daemon.close();
    other.close();
  }
});
