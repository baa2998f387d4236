import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { request as httpRequest, Agent } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as connectTcp } from 'node:net';
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { externalAddress, makeStack, POLICY, selfSignedCert, type Stack } from './daemon-helpers.js';

/** The daemon's JSON replies are read loosely here: each test asserts the fields it needs. */
type Loose = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Reply {
  status: number;
  body: string;
  json: () => Loose;
}

/** One HTTP(S) request to the daemon; `host` defaults to the URL's. */
function call(
  url: string,
  method: string,
  path: string,
  o: { body?: unknown; raw?: string; token?: string; host?: string; agent?: Agent; ca?: Buffer; type?: string } = {},
): Promise<Reply> {
  const u = new URL(url);
  const body = o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
  const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      {
        host: o.host ?? u.hostname,
        port: u.port,
        method,
        path,
        // A fresh connection unless the test brings its own agent: Node's global agent keeps sockets
        // alive, and one the daemon closed (5 s idle) while a spawnSync blocked this process would be
        // reused and reset.
        agent: o.agent ?? false,
        ...(o.ca ? { ca: o.ca, servername: 'localhost' } : {}),
        headers: {
          ...(body !== undefined ? { 'content-type': o.type ?? 'application/json', 'content-length': Buffer.byteLength(body) } : {}),
          ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
        },
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (data += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data, json: () => JSON.parse(data) as Loose }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const httpUrl = (s: Stack): string => JSON.parse(s.cli('status', '--format', 'json').stdout).daemon.http as string;

async function withHttpStack(runtime: string, f: (s: Stack, url: string) => Promise<void>): Promise<void> {
  const s = makeStack(POLICY.replace('runtime {', `runtime {\n${runtime}`));
  try {
    const applied = s.cli('apply');
    assert.equal(applied.code, 0, applied.stderr);
    await f(s, httpUrl(s));
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
}

test('HTTP API from loopback: evaluate permits, denies and defers like the socket; approvals; health, readiness, metrics', async () => {
  await withHttpStack('  http_listen = "127.0.0.1:0"', async (s, url) => {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    const evaluate = (body: unknown) => call(url, 'POST', '/v1/evaluate', { body, agent: keepAlive });
    // The SDKs' HTTP form: tool_id "<tool>/<operation>", with "/invoke" for a bare tool.
    let r = await evaluate({ agent_id: 'bot', tool_id: 'ticket/read', action_type: 'tool_call', args: {} });
    assert.equal(r.status, 200);
    assert.equal(r.json().effect, 'PERMIT');
    assert.match(r.json().action_id, /^action-[0-9A-Z]{26}$/);
    r = await evaluate({ agent_id: 'bot', tool_id: 'search/invoke', args: { q: 'x' } });
    assert.equal(r.json().effect, 'PERMIT');
    r = await evaluate({ agent_id: 'bot', tool_id: 'stripe/payouts', args: {} });
    assert.equal(r.json().effect, 'DENY');
    assert.equal(r.json().structured_denial.code, 'POLICY_DENY');
    const deferred = (await evaluate({ agent_id: 'bot', tool_id: 'stripe/refund', args: { amount: 5 } })).json();
    assert.equal(deferred.effect, 'DEFER');
    const id = deferred.defer_token as string;
    assert.equal((await call(url, 'GET', `/v1/approvals/${id}`)).json().status, 'pending');
    assert.equal((await call(url, 'GET', '/v1/approvals/apr-nonexistent')).json().status, 'unknown');
    assert.equal(s.cli('approvals', 'approve', id).code, 0);
    assert.equal((await call(url, 'GET', `/v1/approvals/${id}`)).json().status, 'approved');
    assert.equal((await evaluate({ agent_id: 'bot', tool_id: 'stripe/refund', args: { amount: 5 } })).json().effect, 'PERMIT');
    assert.equal((await evaluate({ agent_id: 'bot', tool_id: 'stripe/refund', args: { amount: 5 } })).json().effect, 'DEFER');
    keepAlive.destroy();

    // Bad requests are errors, never decisions.
    assert.equal((await call(url, 'POST', '/v1/evaluate', { raw: '{"agent_id": ' })).status, 400);
    assert.equal((await call(url, 'POST', '/v1/evaluate', { body: { agent_id: 'bot' } })).status, 400);
    assert.equal((await call(url, 'POST', '/v1/evaluate', { body: { agent_id: 'bot', tool: 'x', args: [1] } })).status, 400);
    assert.equal((await call(url, 'POST', '/v1/evaluate', { raw: 'x=1', type: 'application/x-www-form-urlencoded' })).status, 415);
    assert.equal((await call(url, 'GET', '/v1/evaluate')).status, 405);
    const malformed = await call(url, 'GET', '/v1/approvals/%E0%A4%A');
    assert.equal(malformed.status, 400, malformed.body);
    assert.equal((await call(url, 'GET', '/v1/nothing')).status, 404);
    const huge = await call(url, 'POST', '/v1/evaluate', {
      raw: JSON.stringify({ agent_id: 'bot', tool: 'x', args: { a: 'x'.repeat(1.1e6) } }),
    });
    assert.equal(huge.status, 413);
    // The operator API is not open to loopback without an operator token.
    assert.equal((await call(url, 'POST', '/v1/operator', { body: { method: 'approvals.list' } })).status, 401);

    assert.deepEqual((await call(url, 'GET', '/healthz')).json(), { state: 'READY' });
    assert.equal((await call(url, 'GET', '/readyz')).status, 200);
    const metrics = (await call(url, 'GET', '/metrics')).body;
    assert.match(metrics, /^faramesh_decisions_total\{effect="permit"\} 3$/m);
    assert.match(metrics, /^faramesh_decisions_total\{effect="defer"\} 2$/m);
    assert.match(metrics, /^faramesh_decision_seconds_count 6$/m);
    assert.match(metrics, /^faramesh_lifecycle_state\{state="READY"\} 1$/m);
    // Every decision made over HTTP is in the log, like any other.
    assert.equal(s.cli('apply', '--stop').code, 0);
    const verified = s.cli('audit', 'verify');
    assert.equal(verified.code, 0, verified.stdout);
  });
});

test('HTTP API off loopback: bearer tokens required; an agent token fixes the agent; operator tokens reach the operator API', async () => {
  const ip = externalAddress();
  await withHttpStack('  http_listen = "0.0.0.0:0"', async (s, anyUrl) => {
    const url = anyUrl.replace('0.0.0.0', ip);
    const body = { agent_id: 'bot', tool_id: 'ticket/read', args: {} };
    let r = await call(url, 'POST', '/v1/evaluate', { body });
    assert.equal(r.status, 401);
    assert.equal(r.json().error.code, 'unauthorized');
    assert.equal((await call(url, 'GET', '/metrics')).status, 401);
    assert.equal((await call(url, 'POST', '/v1/evaluate', { body, token: 'fmt_not-a-real-token' })).status, 401);

    // Tokens come from the operator channel; the daemon keeps only their hashes.
    assert.equal(s.cli('token', 'issue', '--agent', 'nobody').code, 1, 'no such agent in the policy');
    const issued = s.cli('token', 'issue', '--agent', 'bot');
    assert.equal(issued.code, 0, issued.stderr);
    const botToken = issued.stdout.trim();
    assert.match(botToken, /^fmt_[A-Za-z0-9_-]{43}$/);
    assert.ok(!readFileSync(join(s.dir, '.faramesh', 'keys', 'tokens.json'), 'utf8').includes(botToken), 'only a hash is stored');
    assert.equal(s.cli('token', 'issue', '--agent', 'bot').code, 1, 'names are unique');

    r = await call(url, 'POST', '/v1/evaluate', { body, token: botToken });
    assert.equal(r.status, 200);
    assert.equal(r.json().effect, 'PERMIT');
    // The token says who the agent is: no agent_id needed, and a body claiming another is refused.
    r = await call(url, 'POST', '/v1/evaluate', { body: { tool_id: 'ticket/read', args: {} }, token: botToken });
    assert.equal(r.json().effect, 'PERMIT');
    r = await call(url, 'POST', '/v1/evaluate', { body: { ...body, agent_id: 'someone-else' }, token: botToken });
    assert.equal(r.status, 403);
    const deferred = (
      await call(url, 'POST', '/v1/evaluate', { body: { tool_id: 'stripe/refund', args: { amount: 9 } }, token: botToken })
    ).json();
    assert.equal(deferred.effect, 'DEFER');
    // An agent token cannot approve.
    assert.equal(
      (
        await call(url, 'POST', '/v1/operator', {
          body: { method: 'approvals.approve', params: { id: deferred.defer_token, by: 'bot' } },
          token: botToken,
        })
      ).status,
      403,
    );

    const op = spawnSync(
      process.execPath,
      [
        join(import.meta.dirname, '../../bin/faramesh.js'),
        'token',
        'issue',
        '--operator',
        '--name',
        'alice',
        '--format',
        'json',
        '--dir',
        s.dir,
      ],
      {
        encoding: 'utf8',
        env: { ...process.env, HOME: s.dir },
      },
    );
    assert.equal(op.status, 0, op.stderr);
    const opToken = (JSON.parse(op.stdout) as { token: string }).token;
    assert.equal((await call(url, 'POST', '/v1/evaluate', { body, token: opToken })).status, 403, 'operator tokens do not make decisions');
    // The approval records the token's name, whatever the body says.
    r = await call(url, 'POST', '/v1/operator', {
      body: { method: 'approvals.approve', params: { id: deferred.defer_token, by: 'mallory', reason: 'checked' } },
      token: opToken,
    });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json().result.resolved_by, 'token:alice');
    assert.equal((await call(url, 'GET', `/v1/approvals/${deferred.defer_token}`, { token: botToken })).json().status, 'approved');
    assert.equal((await call(url, 'GET', '/metrics', { token: opToken })).status, 200);

    assert.match(s.cli('token', 'list').stdout, /alice\s+operator[\s\S]*bot\s+agent\s+bot/);
    assert.equal(s.cli('token', 'revoke', 'bot').code, 0);
    assert.equal((await call(url, 'POST', '/v1/evaluate', { body, token: botToken })).status, 401);
    assert.equal(s.cli('token', 'revoke', 'bot').code, 4);
  });
});

test('HTTP API over TLS with tls_cert_file and tls_key_file', async () => {
  const s = makeStack(
    POLICY.replace('runtime {', 'runtime {\n  http_listen = "127.0.0.1:0"\n  tls_cert_file = "./tls.crt"\n  tls_key_file = "./tls.key"'),
  );
  try {
    selfSignedCert(s.dir);
    const applied = s.cli('apply');
    assert.equal(applied.code, 0, applied.stderr);
    const url = httpUrl(s);
    assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const ca = readFileSync(join(s.dir, 'tls.crt'));
    const r = await call(url, 'POST', '/v1/evaluate', { body: { agent_id: 'bot', tool_id: 'ticket/read', args: {} }, ca });
    assert.equal(r.json().effect, 'PERMIT');
    // Plain HTTP to the TLS port gets no decision.
    const plain = await call(url.replace('https:', 'http:'), 'POST', '/v1/evaluate', {
      body: { agent_id: 'bot', tool_id: 'ticket/read', args: {} },
    }).catch((e: Error) => e);
    assert.ok(plain instanceof Error || plain.status !== 200, 'no decision over plain HTTP');
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});

test('a client trickling its headers is cut off near the 10 s deadline, not half a minute later', async () => {
  await withHttpStack('  http_listen = "127.0.0.1:0"', async (_s, url) => {
    const { hostname, port } = new URL(url);
    const started = Date.now();
    const lasted = await new Promise<number>((resolve) => {
      const socket = connectTcp(Number(port), hostname, () => socket.write('POST /v1/evaluate HTTP/1.1\r\nHost: x\r\n'));
      const drip = setInterval(() => socket.destroyed || socket.write('X-Slow: 1\r\n'), 300);
      socket.on('error', () => {});
      socket.on('close', () => {
        clearInterval(drip);
        resolve(Date.now() - started);
      });
    });
    assert.ok(lasted >= 9_000 && lasted < 14_000, `cut off after ${lasted} ms`);
  });
});

test('an operator token over HTTP cannot name a command for the supervisor to run (no shell on the daemon host)', async () => {
  await withHttpStack('  http_listen = "127.0.0.1:0"', async (s, url) => {
    const issued = s.cli('token', 'issue', '--operator', '--name', 'remote-op', '--format', 'json');
    assert.equal(issued.code, 0, issued.stderr);
    const token = (JSON.parse(issued.stdout) as { token: string }).token;
    const marker = join(s.dir, 'ran-by-http');
    const r = await call(url, 'POST', '/v1/operator', {
      body: { method: 'supervisor_launch', params: { command: ['sh', '-c', `touch ${marker}`] } },
      token,
    });
    assert.equal(r.json().ok, false, r.body);
    assert.equal(r.json().error.code, 'forbidden');
    await new Promise((res) => setTimeout(res, 500));
    assert.equal(existsSync(marker), false, 'the command ran');
    // The operator token still does what it is for.
    assert.equal((await call(url, 'POST', '/v1/operator', { body: { method: 'status' }, token })).json().ok, true);
  });
});

test('a stop is not held up by an operator waiting on audit.tail over HTTP: the wait ends, and the daemon exits at once', async () => {
  await withHttpStack('  http_listen = "127.0.0.1:0"', async (s, url) => {
    const issued = s.cli('token', 'issue', '--operator', '--name', 'tail-op', '--format', 'json');
    assert.equal(issued.code, 0, issued.stderr);
    const token = (JSON.parse(issued.stdout) as { token: string }).token;
    // A long poll past the end of the log: nothing comes for 25 s.
    const waiting = call(url, 'POST', '/v1/operator', {
      body: { method: 'audit.tail', params: { after: 1_000_000, wait_ms: 25_000 } },
      token,
    });
    await new Promise((res) => setTimeout(res, 300));
    const t0 = Date.now();
    const stopped = s.cli('apply', '--stop');
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.ok(Date.now() - t0 < 10_000, `the stop took ${Date.now() - t0} ms`);
    assert.equal((await waiting).json().ok, true);
  });
});
