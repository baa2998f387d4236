/**
 * The reverse proxy across a hot swap: a request whose body is still arriving when a policy with
 * other routes lands is not named by the old routes and decided by the new rules (a call neither
 * policy would decide so); it is refused with a retry, and nothing reaches the upstream.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { decisionRecords, makeStack, sleep } from './daemon-helpers.js';

test('a request read across a swap that changes the routes is refused with a retry, never decided half and half', async () => {
  const seen: string[] = [];
  const upstream = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push(`${req.method} ${req.url}`);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  const port = (upstream.address() as AddressInfo).port;
  const policy = (routes: string, rule: string) => `runtime {
  wal_dir       = "./wal"
  socket        = "./.faramesh/runtime/agent.sock"
  http_listen   = "127.0.0.1:0"
  http_upstream = "http://127.0.0.1:${port}/"
  ${routes}
  http_agent    = "ops"
}

agent "ops" {
  default deny
  rules {
    ${rule}
    permit http/post
  }
}
`;
  const s = makeStack(policy('', ''));
  try {
    assert.equal(s.cli('apply').code, 0);
    const url = new URL((JSON.parse(s.cli('status', '--format', 'json').stdout) as { daemon: { http: string } }).daemon.http);
    const body = JSON.stringify({ amount: 5000 });
    const send = (between?: () => Promise<void>): Promise<{ status: number; text: string }> =>
      new Promise((resolve, reject) => {
        const req = request(
          {
            host: url.hostname,
            port: url.port,
            method: 'POST',
            path: '/transfer',
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          },
          (res) => {
            let text = '';
            res.on('data', (d: Buffer) => (text += d.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          },
        );
        req.on('error', reject);
        req.write(body.slice(0, 3));
        void (between ?? (async () => {}))().then(() => req.end(body.slice(3)), reject);
      });
    assert.equal((await send()).status, 200, 'the first policy permits it as http/post');
    seen.length = 0;
    const inFlight = await send(async () => {
      await sleep(100);
      writeFileSync(
        join(s.dir, 'governance.fms'),
        policy('http_routes = { "POST /transfer" = "transfer" }', 'deny transfer reason "no transfers"'),
      );
      const applied = await s.cliAsync('apply');
      assert.equal(applied.code, 0, applied.stderr);
    });
    assert.equal(inFlight.status, 503, inFlight.text);
    assert.match(inFlight.text, /the policy changed while this request was read/);
    assert.deepEqual(seen, [], 'nothing reached the upstream');
    const again = await send();
    assert.equal(again.status, 403, 'sent again, the new routes name it transfer, which is denied');
    const records = await decisionRecords(s);
    assert.deepEqual(
      records.map((r) => `${r.tool} ${r.effect}`),
      ['http/post permit', 'transfer deny'],
    );
  } finally {
    s.cli('apply', '--stop');
    s.stop();
    upstream.close();
  }
});
