import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeStack, sleep, until } from './daemon-helpers.js';

test('a permit recorded as a DENY (its credential failed) fires the deny alerts, not the permit ones', async () => {
  const got: { routing_key: string; payload: { summary: string } }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      got.push(JSON.parse(body) as (typeof got)[number]);
      res.writeHead(202).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const s = makeStack(
    `runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
}
agent "bot" {
  default deny
  rules {
    permit ticket/read
  }
  credential "api" {
    provider = env("CRED_PROVIDER")
    tools    = ["ticket/read"]
  }
  alert {
    on     = "deny"
    notify = "pagerduty://on-deny"
  }
  alert {
    on     = "permit"
    notify = "pagerduty://on-permit"
  }
}
`,
    { FARAMESH_PAGERDUTY_URL: `${url}/pd`, CRED_PROVIDER: 'no-such-provider' },
  );
  try {
    assert.equal((await s.cliAsync('apply')).code, 0);
    const r = await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: { id: 1 } });
    assert.equal(r.effect, 'DENY');
    assert.equal(r.structured_denial?.code, 'CREDENTIAL_UNAVAILABLE');
    await until('an alert', () => got.length > 0);
    await sleep(300);
    assert.deepEqual(
      got.map((a) => a.routing_key),
      ['on-deny'],
      `alerts sent: ${got.map((a) => `${a.routing_key}: ${a.payload.summary}`).join('; ')}`,
    );
  } finally {
    await s.cliAsync('apply', '--stop');
    s.stop();
    server.close();
  }
});
