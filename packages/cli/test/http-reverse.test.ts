/**
 * The reverse proxy on http_listen (TLS) in front of an HTTPS upstream: requests mapped to tools by the
 * upstream's OpenAPI document and by a route map, typed path/query/body arguments in conditions,
 * permit / deny / defer → approve → the identical call once, credentials injected, agent tokens
 * (never passed on), the ambiguities refused (duplicate JSON keys, a name given twice, encoded
 * slashes, undeclared body types), large bodies streamed both ways, routes changed by apply, and
 * apply refusing what cannot be served.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { Agent, request } from 'undici';

/** The message of a proxy's own error: `{"error": {"code", "message"}}`, as the HTTP API's. */
const errorMessage = (json: Record<string, unknown>) => {
  const e = json.error as { code?: unknown; message?: unknown } | undefined;
  assert.equal(typeof e?.code, 'string', JSON.stringify(json));
  return String(e?.message);
};
import { makeStack, selfSignedCert, type Stack } from './daemon-helpers.js';

const certs = mkdtempSync(join(tmpdir(), 'fm-rev-'));
const upstreamTls = selfSignedCert(certs, 'upstream');

/** What the upstream received. */
interface Seen {
  method: string;
  url: string;
  bytes: number;
  body: string;
  auth?: string;
  key?: string;
  token?: string;
}
const seen: Seen[] = [];
const upstream = createServer({ key: readText(upstreamTls.key), cert: readText(upstreamTls.cert) }, (req: IncomingMessage, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    seen.push({
      method: req.method!,
      url: req.url!,
      bytes: body.length,
      body: body.length < 4096 ? body.toString('utf8') : '',
      ...(req.headers.authorization ? { auth: req.headers.authorization } : {}),
      ...(req.headers['x-api-key'] ? { key: req.headers['x-api-key'] as string } : {}),
      ...(req.headers['x-faramesh-token'] ? { token: req.headers['x-faramesh-token'] as string } : {}),
    });
    if (req.url!.endsWith('/blobs/big')) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      return res.end(Buffer.alloc(6 << 20, 7));
    }
    res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'yes' });
    res.end(JSON.stringify({ ok: true, method: req.method, url: req.url, bytes: body.length }));
  });
});

function readText(file: string): string {
  return readFileSync(file, 'utf8');
}

const OPENAPI = `openapi: 3.0.3
info: { title: shop, version: "1" }
paths:
  /customers/{id}:
    parameters:
      - { name: id, in: path, required: true, schema: { type: integer } }
    get:
      operationId: lookup_customer
    delete:
      operationId: delete_customer
  /orders/{id}/refund:
    post:
      operationId: refund_order
      parameters:
        - { name: id, in: path, required: true, schema: { type: integer } }
        - $ref: '#/components/parameters/Amount'
      requestBody:
        content:
          application/json: {}
  /notes:
    post:
      operationId: create_note
      requestBody:
        content:
          application/json:
            schema: { type: object }
  /blobs/{name}:
    get:
      operationId: download
    put:
      operationId: upload
      requestBody:
        content:
          application/octet-stream: {}
  /untitled:
    get:
      summary: no operationId
components:
  parameters:
    Amount: { name: amount, in: query, schema: { type: number } }
`;

const policy = (extraRoutes = '') => `runtime {
  wal_dir       = "./wal"
  socket        = "./.faramesh/runtime/agent.sock"
  http_listen   = "127.0.0.1:0"
  tls_cert_file = "./listen.crt"
  tls_key_file  = "./listen.key"
  http_upstream = "https://127.0.0.1:UPSTREAM_PORT/api/"
  http_openapi  = "./openapi.yaml"
  http_routes   = { "GET /status" = "get_status"${extraRoutes} }
  http_agent    = "ops"
}

agent "ops" {
  default deny
  rules {
    permit lookup_customer if id < 1000
    defer  refund_order if amount >= 100 reason "large refunds need a human"
    permit refund_order if amount < 100
    deny   delete_customer reason "never from the agent"
    permit create_note if title != "forbidden"
    permit get_status
    permit get_health
    permit download
    permit upload
  }
  credential "crm" {
    provider = "crm-not-declared"
    header   = "X-Api-Key"
    tools    = ["lookup_customer"]
  }
}

agent "reader" {
  default deny
  rules {
    permit lookup_customer
  }
}
`;

let s: Stack;
let url: string;
let listenCa: string;
let dispatcher: Agent;
before(async () => {
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  const port = (upstream.address() as { port: number }).port;
  s = makeStack('', { NODE_EXTRA_CA_CERTS: upstreamTls.cert });
  writeFileSync(join(s.dir, 'governance.fms'), policy().replace('UPSTREAM_PORT', String(port)));
  writeFileSync(join(s.dir, 'openapi.yaml'), OPENAPI);
  listenCa = selfSignedCert(s.dir, 'listen').cert;
  const applied = s.cli('apply');
  assert.equal(applied.code, 0, applied.stderr + applied.stdout);
  assert.match(applied.stderr, /GET \/untitled has no operationId/, 'apply says which operations it cannot name');
  url = (JSON.parse(s.cli('status', '--format', 'json').stdout) as { daemon: { http: string } }).daemon.http;
  dispatcher = new Agent({ connect: { ca: readText(listenCa) } });
});
after(async () => {
  await dispatcher?.close();
  s.cli('apply', '--stop');
  upstream.close();
});

async function call(
  method: string,
  path: string,
  opts: { body?: string | Buffer; type?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; json: Record<string, unknown>; headers: Record<string, unknown>; bytes: number }> {
  const r = await request(`${url}${path}`, {
    method: method as 'GET',
    dispatcher,
    headers: { ...(opts.type ? { 'content-type': opts.type } : {}), ...opts.headers },
    ...(opts.body !== undefined ? { body: opts.body } : {}),
  });
  const buf = Buffer.from(await r.body.arrayBuffer());
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(buf.toString('utf8')) as Record<string, unknown>;
  } catch {
    /* a binary body */
  }
  return { status: r.statusCode, json, headers: r.headers, bytes: buf.length };
}

test('OpenAPI operations are the tools: typed path parameters in conditions, the credential injected, denials never reach the upstream', async () => {
  const ok = await call('GET', '/customers/42');
  assert.equal(ok.status, 200, JSON.stringify(ok.json));
  assert.equal(ok.headers['x-upstream'], 'yes');
  assert.match(String(ok.headers['x-faramesh-action-id']), /^action-/);
  assert.deepEqual(seen.at(-1), { method: 'GET', url: '/api/customers/42', bytes: 0, body: '', key: 'STUB-crm' });

  // A caller's request id is the record's request_id: the run can be traced.
  await call('GET', '/customers/7', { headers: { 'x-request-id': 'crm-run-1' } });
  const run = (await s.cliAsync('audit', 'trace', 'crm-run-1', '--format', 'json')).stdout.trim().split('\n');
  assert.deepEqual(
    run.map((l) => (JSON.parse(l) as { tool: string }).tool),
    ['lookup_customer'],
  );

  const before = seen.length;
  const big = await call('GET', '/customers/5000');
  assert.equal(big.status, 403, 'id is an integer, and 5000 is not < 1000');
  assert.equal(big.json.effect, 'DENY');
  const del = await call('DELETE', '/customers/42');
  assert.equal(del.status, 403);
  assert.equal(del.json.code, 'POLICY_DENY');
  assert.match(String(del.json.human_message), /never from the agent/);
  const notInt = await call('GET', '/customers/abc');
  assert.equal(notInt.status, 400);
  assert.match(errorMessage(notInt.json), /'id' must be an integer/);
  assert.equal(seen.length, before, 'nothing refused reached the upstream');

  const records = (await s.cliAsync('audit', 'tail', '--format', 'json', '--no-follow', '--limit', '50')).stdout;
  assert.match(records, /"tool":"lookup_customer"/);
  assert.match(records, /"tool":"delete_customer"/);
  assert.ok(!records.includes('STUB-crm'), 'the credential never reaches the log');

  // Asked for over the socket, a route's credential is refused: only the proxy holds it.
  const direct = await s.govern({ agent_id: 'ops', tool_id: 'lookup_customer', args: { id: 42 } });
  assert.equal(direct.effect, 'DENY');
  assert.equal(direct.structured_denial?.code, 'CREDENTIAL_UNAVAILABLE');
  assert.match(direct.structured_denial!.human_message, /governed by the HTTP proxy: its credential is attached there/);
  assert.equal(direct.credential, undefined);
});

test('a query parameter typed by a $ref: permit under 100, defer at 100 → approve → the identical call runs once', async () => {
  const small = await call('POST', '/orders/7/refund?amount=50');
  assert.equal(small.status, 200, JSON.stringify(small.json));
  assert.equal(seen.at(-1)!.url, '/api/orders/7/refund?amount=50');

  const deferred = await call('POST', '/orders/7/refund?amount=250');
  assert.equal(deferred.status, 403);
  assert.equal(deferred.json.effect, 'DEFER');
  const approval = String(deferred.json.approval_id);
  assert.equal(deferred.headers['x-faramesh-approval-id'], approval);
  const count = seen.length;
  assert.equal((await call('POST', '/orders/7/refund?amount=250')).status, 403, 'still pending');
  assert.equal(seen.length, count);
  const approved = s.cli('approvals', 'approve', approval, '--reason', 'customer verified');
  assert.equal(approved.code, 0, approved.stderr);
  const retried = await call('POST', '/orders/7/refund?amount=250');
  assert.equal(retried.status, 200, JSON.stringify(retried.json));
  assert.equal(seen.at(-1)!.url, '/api/orders/7/refund?amount=250');
  assert.equal((await call('POST', '/orders/7/refund?amount=250')).json.effect, 'DEFER', 'the approval covered one call');
  assert.equal((await call('POST', '/orders/7/refund?amount=lots')).status, 400, 'not a number');
});

test('JSON body fields are arguments; the bytes go on as sent; ambiguous or undeclared bodies are refused', async () => {
  const body = '{"title":"hello","tags":["a"]}';
  const ok = await call('POST', '/notes', { body, type: 'application/json' });
  assert.equal(ok.status, 200, JSON.stringify(ok.json));
  assert.equal(seen.at(-1)!.body, body);
  const before = seen.length;
  assert.equal((await call('POST', '/notes', { body: '{"title":"forbidden"}', type: 'application/json' })).status, 403);
  const dup = await call('POST', '/notes', { body: '{"title":"ok","title":"forbidden"}', type: 'application/json' });
  assert.equal(dup.status, 400);
  assert.match(errorMessage(dup.json), /'title' twice/);
  const plain = await call('POST', '/notes', { body: '{"title":"forbidden"}', type: 'text/plain' });
  assert.equal(plain.status, 415, 'create_note declares JSON: another type is refused, not passed unread');
  assert.equal((await call('POST', '/notes', { body: '{"title":', type: 'application/json' })).status, 400);
  const huge = await call('POST', '/notes', { body: JSON.stringify({ title: 'x'.repeat(2 << 20) }), type: 'application/json' });
  assert.equal(huge.status, 413);
  const twice = await call('POST', '/orders/7/refund?amount=50', { body: '{"amount":5000}', type: 'application/json' });
  assert.equal(twice.status, 400, 'amount in the query and in the body, with different values');
  assert.match(errorMessage(twice.json), /'amount' is given twice/);
  assert.equal(seen.length, before, 'nothing refused reached the upstream');
});

test('what an upstream could read differently is refused: ; and letter case in the path, method overrides, repeated names, case-folded JSON keys, untyped or undeclared bodies', async () => {
  const escaped = await call('GET', '/customers/%34%32');
  assert.equal(escaped.status, 200, 'unreserved escapes decode before matching');
  assert.equal(seen.at(-1)!.url, '/api/customers/42');
  const before = seen.length;
  const refused = async (status: number, why: RegExp, method: string, path: string, opts?: Parameters<typeof call>[2]) => {
    const r = await call(method, path, opts);
    assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.json)}`);
    assert.match(errorMessage(r.json), why);
  };
  await refused(400, /; in the path/, 'GET', '/customers/42;x=1');
  await refused(400, /only in letter case/, 'GET', '/CUSTOMERS/42');
  await refused(400, /x-http-method-override is refused/, 'POST', '/notes', {
    body: '{"title":"t"}',
    type: 'application/json',
    headers: { 'x-http-method-override': 'DELETE' },
  });
  await refused(400, /_method is refused/, 'GET', '/status?_method=DELETE');
  // Laravel takes `_method` from a JSON body too: a POST decided as create_note would run as DELETE.
  await refused(400, /_method is refused/, 'POST', '/notes', { body: '{"title":"t","_method":"DELETE"}', type: 'application/json' });
  await refused(400, /gives 'amount' more than once/, 'POST', '/orders/7/refund?amount=50&amount=5000');
  // Rack 2 (and Go < 1.17, Python < 3.9.2) read `;` as `&`: there this is amount=5000, here a note alone.
  await refused(400, /; in the query/, 'POST', '/orders/7/refund?note=x;amount=5000');
  await refused(400, /'Title' twice/, 'POST', '/notes', { body: '{"title":"ok","Title":"forbidden"}', type: 'application/json' });
  await refused(415, /needs a content type/, 'POST', '/notes', { body: Buffer.from('{"title":"ok"}') });
  await refused(400, /'amount\[\]': a name with brackets/, 'POST', '/orders/7/refund?amount[]=5000');
  await refused(400, /'amount\[0\]': a name with brackets/, 'POST', '/orders/7/refund?amount[0]=5000');
  await refused(415, /takes no bodies/, 'GET', '/customers/42', { body: '{}', type: 'application/json' });
  assert.equal(seen.length, before, 'none of them reached the upstream');
});

test('the route map, unmatched requests as http/<method>, normalised paths, encoded slashes refused, the daemon keeps its own paths', async () => {
  assert.equal((await call('GET', '/status')).status, 200);
  assert.equal((await call('GET', '/customers/../status')).status, 200, 'dot segments resolve before matching');
  assert.equal(seen.at(-1)!.url, '/api/status');
  const before = seen.length;
  const other = await call('GET', '/admin/users');
  assert.equal(other.status, 403, 'no route: http/get, which the policy does not permit');
  assert.equal(other.json.effect, 'DENY');
  assert.equal((await call('GET', '/customers/1%2F2')).status, 400);
  assert.equal((await call('GET', '//status')).status, 200, 'repeated slashes fold');
  assert.equal(seen.length, before + 1);
  const health = await call('GET', '/healthz');
  assert.deepEqual(health.json, { state: 'READY' }, "the daemon's own path");
  assert.equal(seen.length, before + 1);
});

test('agent tokens choose the agent and are never passed on; an upstream Authorization passes when it is not ours', async () => {
  const issued = s.cli('token', 'issue', '--agent', 'reader');
  assert.equal(issued.code, 0, issued.stderr);
  const token = issued.stdout.trim();
  assert.equal((await call('GET', '/customers/5000', { headers: { 'x-faramesh-token': token } })).status, 200, 'reader permits any id');
  assert.equal(seen.at(-1)!.token, undefined);
  assert.equal((await call('GET', '/customers/5000', { headers: { authorization: `Bearer ${token}` } })).status, 200);
  assert.equal(seen.at(-1)!.auth, undefined, 'our token in Authorization stays here');
  assert.equal((await call('GET', '/status', { headers: { authorization: `Bearer ${token}` } })).status, 403, 'reader: no get_status');
  assert.equal((await call('GET', '/status', { headers: { 'x-faramesh-token': 'fmt_wrong' } })).status, 401);
  const op = s.cli('token', 'issue', '--operator', '--name', 'ops-admin');
  assert.equal(op.code, 0, op.stderr);
  assert.equal((await call('GET', '/status', { headers: { authorization: `Bearer ${op.stdout.trim()}` } })).status, 403);
  assert.equal((await call('GET', '/status', { headers: { authorization: 'Bearer upstream-key' } })).status, 200, 'http_agent');
  assert.equal(seen.at(-1)!.auth, 'Bearer upstream-key');
  assert.equal((await call('GET', '/status', { headers: { authorization: 'Bearer fmt_revoked-or-unknown' } })).status, 200);
  assert.equal(seen.at(-1)!.auth, undefined, 'a Faramesh token, even one that is not valid, never goes upstream');
  // Nor inside Basic, as a client sends it for http://reader:fmt_…@host (the forward proxy's form).
  const basic = `Basic ${Buffer.from(`reader:${token}`).toString('base64')}`;
  assert.equal((await call('GET', '/status', { headers: { authorization: basic } })).status, 200);
  assert.equal(seen.at(-1)!.auth, undefined, 'a Faramesh token in Basic never goes upstream');
  // Nor in any other form of the header: bare, or under another scheme.
  for (const auth of [token, `Token ${token}`, `Basic ${Buffer.from(`reader: ${token}`).toString('base64')}`]) {
    assert.equal((await call('GET', '/status', { headers: { authorization: auth } })).status, 200);
    assert.equal(seen.at(-1)!.auth, undefined, `${auth.slice(0, 12)}…: a Faramesh token never goes upstream`);
  }
});

test('large bodies stream through both ways, unread when no rule needs them', async () => {
  const down = await call('GET', '/blobs/big');
  assert.equal(down.status, 200);
  assert.equal(down.bytes, 6 << 20);
  const up = await call('PUT', '/blobs/upload', { body: Buffer.alloc(8 << 20, 1), type: 'application/octet-stream' });
  assert.equal(up.status, 200, JSON.stringify(up.json));
  assert.equal(seen.at(-1)!.bytes, 8 << 20);
});

test('a chunked body is sent on chunked: a request hidden in it never reaches the upstream as a request of its own', async () => {
  const hidden = `POST /api/orders/1/refund?amount=5000 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n`;
  const size = Buffer.byteLength(hidden);
  const before = seen.length;
  const { hostname: host, port } = new URL(url);
  const answer = await new Promise<string>((resolve, reject) => {
    const c = tlsConnect({ host, port: Number(port), ca: readText(listenCa), servername: 'localhost' });
    let got = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => {
      got += d;
      if (got.includes('"bytes"')) c.end();
    });
    c.on('close', () => resolve(got));
    c.on('error', reject);
    c.write(
      `GET /status HTTP/1.1\r\nHost: ${host}\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n` +
        `${size.toString(16)}\r\n${hidden}\r\n0\r\n\r\n`,
    );
  });
  assert.match(answer, new RegExp(`"bytes":${size}`), answer);
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(
    seen.slice(before).map((x) => [x.method, x.url, x.bytes]),
    [['GET', '/api/status', size]],
    'one request, its body intact',
  );
});

test('status shows the reverse proxy; apply changes its routes without a restart', async () => {
  const status = s.cli('status');
  assert.match(status.stdout, /reverse +https:\/\/127\.0\.0\.1:\d+ → https:\/\/127\.0\.0\.1:\d+\/api\/ \(7 routes; no token: agent ops\)/);
  const port = (upstream.address() as { port: number }).port;
  assert.equal((await call('GET', '/health')).json.effect, 'DENY');
  writeFileSync(join(s.dir, 'governance.fms'), policy(', "GET /health" = "get_health"').replace('UPSTREAM_PORT', String(port)));
  const applied = s.cli('apply');
  assert.equal(applied.code, 0, applied.stderr + applied.stdout);
  assert.equal((await call('GET', '/health')).status, 200);
});

test('apply refuses what it cannot serve, and changes nothing', () => {
  const refuse = (runtime: string, files: Record<string, string>, why: RegExp) => {
    const t = makeStack(`runtime {\n  wal_dir = "./wal"\n${runtime}\n}\n\nagent "a" {\n  default deny\n}\n`);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(t.dir, name), text);
    const r = t.cli('apply');
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, why);
  };
  refuse('  http_upstream = "http://127.0.0.1:1"', {}, /http_upstream is served on runtime\.http_listen/);
  refuse('  http_listen = "127.0.0.1:0"\n  http_openapi = "./api.yaml"', {}, /route to runtime\.http_upstream/);
  const up = '  http_listen = "127.0.0.1:0"\n  http_upstream = "http://127.0.0.1:1"\n';
  refuse(`${up}  http_openapi = "./api.yaml"`, { 'api.yaml': 'swagger: "2.0"\npaths: {}\n' }, /Swagger 2\.0: convert it to OpenAPI 3/);
  refuse(`${up}  http_openapi = "./missing.yaml"`, {}, /cannot read/);
  refuse(`${up}  http_routes = { "GET /healthz" = "x" }`, {}, /the daemon's own path/);
  refuse(
    `${up}  http_openapi = "./api.yaml"\n  http_routes = { "GET /a/{x}" = "x" }`,
    { 'api.yaml': 'openapi: 3.1.0\npaths:\n  /a/{id}:\n    get: { operationId: y }\n' },
    /GET \/a\/\{id\} is routed twice/,
  );
  refuse(`${up}  http_agent = "ghost"`, {}, /http_agent names 'ghost'/);
  refuse(`${up}  http_routes = { "FETCH /x" = "x" }`, {}, /is not a route/);
});

test('faramesh check reads the OpenAPI document as apply will: its routes, its warnings, and what apply would refuse', () => {
  const ok = s.cli('check');
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /reverse proxy routes \(\d+\)/);
  assert.match(ok.stderr, /GET \/untitled has no operationId/);
  assert.equal(s.cli('check', '--strict').code, 3, 'a warning fails --strict');
  const json = JSON.parse(s.cli('check', '--format', 'json').stdout) as { http_routes: { routes: number; warnings: string[] } };
  assert.ok(json.http_routes.routes >= 7);
  const t = makeStack(
    `runtime {\n  http_listen = "127.0.0.1:0"\n  http_upstream = "http://127.0.0.1:1"\n  http_openapi = "./api.yaml"\n}\n`,
  );
  writeFileSync(join(t.dir, 'api.yaml'), 'swagger: "2.0"\npaths: {}\n');
  const bad = t.cli('check');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /Swagger 2\.0: convert it to OpenAPI 3/);
});
