/**
 * The forward HTTP proxy, with curl and undici through it to a local upstream: permit, deny (the
 * upstream never sees the request), defer with its approval id, conditions on the path, egress
 * deny, the SSRF guard (loopback by IP, by name, IPv6, trailing dot, userinfo), CONNECT tunnels,
 * large streamed bodies, proxy credentials on the shared port, and no secret in the log.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createConnection, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProxyAgent, request } from 'undici';
import { readRecords } from '@faramesh/audit';
import { appliedStack, externalAddress, freePort, makeStack, RUNTIME, selfSignedCert, type Stack, walText } from './daemon-helpers.js';

/** What the upstream received: method, path, headers, body size. */
const seen: { method: string; url: string; host: string; bytes: number; auth?: string }[] = [];
const upstream = createHttpServer((req: IncomingMessage, res) => {
  let bytes = 0;
  req.on('data', (c: Buffer) => (bytes += c.length));
  req.on('end', () => {
    seen.push({
      method: req.method!,
      url: req.url!,
      host: req.headers.host!,
      bytes,
      ...(req.headers.authorization ? { auth: req.headers.authorization } : {}),
    });
    res.writeHead(200, { 'content-type': 'text/plain', 'x-upstream': 'yes' });
    res.end(req.url === '/big' ? 'y'.repeat(4 << 20) : `hello ${req.method} ${req.url} (${bytes} bytes)`);
  });
});

let s: Stack;
let up: number;
let own: number;
let shared: number;
let outside: string;
before(async () => {
  // On every interface: a request to this machine's outside address leaves loopback.
  await new Promise<void>((r) => upstream.listen(0, '0.0.0.0', () => r()));
  up = (upstream.address() as { port: number }).port;
  [own, shared] = [await freePort(), await freePort()];
  outside = externalAddress();
  s = appliedStack(`runtime {
  wal_dir         = "./wal"
  socket          = "./.faramesh/runtime/agent.sock"
  http_proxy_port = ${shared}
}

agent "web" {
  default deny
  enforcement {
    http_proxy_port = ${own}
  }
  rules {
    permit http/get
    permit http/post if path startsWith "/upload"
    defer  http/delete reason "deletes need a human"
    permit http/connect
    permit http/put if scheme == "http" and port == ${up}
    permit http/patch
  }
  egress {
    allow = ["127.0.0.1", "localhost", "blocked.example", "${outside}"]
    deny  = ["blocked.example"]
  }
  credential "sealed" {
    tools = ["http/patch"]
  }
  credential "plain" {
    tools     = ["http/put"]
    cleartext = true
  }
  credential "tunnel" {
    tools = ["http/connect"]
  }
}

agent "other" {
  default deny
  rules {
    permit http/get
    permit http/connect
  }
}
`);
});
after(() => {
  s.cli('apply', '--stop');
  upstream.close();
});

/** curl, run without blocking this process (the upstream lives in it). */
const curl = (...args: string[]) =>
  new Promise<{ status: number; body: string; stderr: string }>((resolve) =>
    execFile(
      'curl',
      ['-s', '-S', '-o', '-', '-w', '\n%{http_code}', ...args],
      { encoding: 'utf8', timeout: 30_000, maxBuffer: 64 << 20 },
      (_e, stdout, stderr) => {
        const lines = stdout.split('\n');
        resolve({ status: Number(lines.at(-1)), body: lines.slice(0, -1).join('\n'), stderr });
      },
    ),
  );
// Plain HTTP as absolute-form requests (undici would otherwise tunnel even http:// through CONNECT).
const viaOwn = () => new ProxyAgent({ uri: `http://127.0.0.1:${own}`, proxyTunnel: false });

test('plain HTTP: a permitted GET is forwarded with its Host; the decision names the host, method and path', async () => {
  const r = await curl('-x', `http://127.0.0.1:${own}`, `http://127.0.0.1:${up}/hello?x=1`);
  assert.equal(r.status, 200, r.body + r.stderr);
  assert.equal(r.body, 'hello GET /hello?x=1 (0 bytes)');
  assert.equal(seen.at(-1)!.host, `127.0.0.1:${up}`);
  const tail = s.cli('audit', 'tail', '--format', 'json', '--no-follow', '--limit', '5').stdout;
  const decision = tail
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((r) => r.tool === 'http/get');
  assert.equal(decision?.effect, 'permit');
  assert.equal(decision?.agent_id, 'web');
});

test("a request id header (X-Faramesh-Request-Id, X-Request-Id or traceparent) becomes the record's request_id", async () => {
  const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
  const sent = [
    ['-H', 'X-Faramesh-Request-Id: task-42', '-H', 'X-Request-Id: ignored-when-faramesh-one-is-set'],
    ['-H', 'X-Request-Id: task-42'],
    ['-H', `traceparent: 00-${trace}-00f067aa0ba902b7-01`],
  ];
  for (const headers of sent)
    assert.equal((await curl('-x', `http://127.0.0.1:${own}`, ...headers, `http://127.0.0.1:${up}/traced`)).status, 200);
  // CONNECT carries it too.
  await curl('-p', '-x', `http://127.0.0.1:${own}`, '--proxy-header', 'X-Request-Id: task-42', `https://127.0.0.1:${up}/`);
  // The stored records, one per line, in log order.
  const lines = s.cli('audit', 'trace', 'task-42', '--format', 'json').stdout.trim().split('\n');
  const records = lines.map((l) => JSON.parse(l) as { tool: string; request_id: string });
  assert.deepEqual(
    records.map((r) => [r.tool, r.request_id]),
    [
      ['http/get', 'task-42'],
      ['http/get', 'task-42'],
      ['http/connect', 'task-42'],
    ],
  );
  const traced = s.cli('audit', 'trace', trace, '--format', 'json').stdout.trim().split('\n');
  assert.equal(traced.length, 1);
  assert.equal((JSON.parse(traced[0]!) as { request_id: string }).request_id, trace);
});

test('plain HTTP: the upstream gets the Host of the URL the policy judged, never one the agent sent beside it', async () => {
  const r = await curl('-x', `http://127.0.0.1:${own}`, '-H', 'Host: attacker.example', `http://127.0.0.1:${up}/hello`);
  assert.equal(r.status, 200, r.body + r.stderr);
  assert.equal(seen.at(-1)!.host, `127.0.0.1:${up}`);
});

test('deny and defer are 403 with the structured denial; the upstream never sees them; conditions read the path', async () => {
  const before = seen.length;
  const denied = await request(`http://127.0.0.1:${up}/elsewhere`, { method: 'POST', body: 'x', dispatcher: viaOwn() });
  assert.equal(denied.statusCode, 403);
  const body = (await denied.body.json()) as { effect: string; code: string; action_id: string };
  assert.equal(body.code, 'POLICY_DENY');
  assert.match(body.action_id, /^action-/);
  const deferred = await request(`http://127.0.0.1:${up}/thing`, { method: 'DELETE', dispatcher: viaOwn() });
  assert.equal(deferred.statusCode, 403);
  const d = (await deferred.body.json()) as { effect: string; approval_id: string; human_message: string };
  assert.equal(d.effect, 'DEFER');
  assert.match(d.approval_id, /^apr-/);
  assert.equal(d.human_message, 'deletes need a human');
  assert.equal(seen.length, before, 'the upstream saw neither');
  const upload = await request(`http://127.0.0.1:${up}/upload`, { method: 'POST', body: 'data', dispatcher: viaOwn() });
  assert.equal(upload.statusCode, 200);
  assert.equal(await upload.body.text(), 'hello POST /upload (4 bytes)');
  // The path judged is the path sent: escapes an upstream would decode are decoded first.
  const escaped = await curl('--path-as-is', '-d', 'data', '-x', `http://127.0.0.1:${own}`, `http://127.0.0.1:${up}/up%6Coad//x/../y`);
  assert.equal(escaped.status, 200, escaped.body);
  assert.equal(seen.at(-1)!.url, '/upload/y');
  const slash = await curl('-x', `http://127.0.0.1:${own}`, `http://127.0.0.1:${up}/a%2Fb`);
  assert.equal(slash.status, 400);
  assert.match(slash.body, /an encoded \/ or/);
});

test('a credential goes over plain HTTP only to this machine, unless its block says cleartext = true; rules see scheme and port', async () => {
  const local = await curl('-X', 'PATCH', '-x', `http://127.0.0.1:${own}`, `http://127.0.0.1:${up}/local`);
  assert.equal(local.status, 200, local.body);
  assert.equal(seen.at(-1)!.auth, 'Bearer STUB-sealed');
  const before = seen.length;
  const away = await curl('-X', 'PATCH', '-x', `http://127.0.0.1:${own}`, `http://${outside}:${up}/away`);
  assert.equal(away.status, 403);
  const denial = JSON.parse(away.body) as { code: string; human_message: string };
  assert.equal(denial.code, 'CREDENTIAL_UNAVAILABLE');
  assert.equal(
    denial.human_message,
    `http://${outside} would carry the credential unencrypted: use https, or set cleartext = true in credential "sealed"`,
  );
  assert.equal(seen.length, before, 'the request never left');
  const allowed = await curl('-X', 'PUT', '-x', `http://127.0.0.1:${own}`, `http://${outside}:${up}/away`);
  assert.equal(allowed.status, 200, allowed.body);
  assert.deepEqual([seen.at(-1)!.url, seen.at(-1)!.auth], ['/away', 'Bearer STUB-plain']);
  // Rules see the scheme and the port: http/put is permitted to this one port only.
  const port = await curl('-X', 'PUT', '-x', `http://127.0.0.1:${own}`, `http://${outside}:${shared}/away`);
  assert.equal(port.status, 403);
  assert.equal((JSON.parse(port.body) as { code: string }).code, 'POLICY_DENY');
});

test('large bodies stream through both ways intact', async () => {
  const big = Buffer.alloc(5 << 20, 0x61);
  const up5 = await request(`http://127.0.0.1:${up}/upload/big`, { method: 'POST', body: big, dispatcher: viaOwn() });
  assert.equal(await up5.body.text(), `hello POST /upload/big (${5 << 20} bytes)`);
  const down = await request(`http://127.0.0.1:${up}/big`, { dispatcher: viaOwn() });
  assert.equal((await down.body.text()).length, 4 << 20);
});

test('a chunked body is sent on chunked: a request hidden in it never reaches the upstream as a request of its own', async () => {
  const hidden = `GET /smuggled HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
  const chunk = `${Buffer.byteLength(hidden).toString(16)}\r\n${hidden}\r\n0\r\n\r\n`;
  const before = seen.length;
  const answer = await new Promise<string>((resolve, reject) => {
    const c = createConnection(own, '127.0.0.1');
    let got = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => {
      got += d;
      if (got.includes('bytes)')) c.end();
    });
    c.on('close', () => resolve(got));
    c.on('error', reject);
    c.write(`GET http://127.0.0.1:${up}/carrier HTTP/1.1\r\nHost: 127.0.0.1:${up}\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}`);
  });
  assert.match(answer, new RegExp(`hello GET /carrier \\(${Buffer.byteLength(hidden)} bytes\\)`));
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(
    seen.slice(before).map((x) => [x.url, x.bytes]),
    [['/carrier', Buffer.byteLength(hidden)]],
    'one request, its body intact',
  );
});

test("egress deny wins over allow; the SSRF guard refuses loopback by IP, name, IPv6, trailing dot, userinfo and the machine's own address unless named", async () => {
  const blocked = await curl('-x', `http://127.0.0.1:${own}`, 'http://blocked.example/');
  assert.equal(blocked.status, 403);
  assert.equal((JSON.parse(blocked.body) as { code: string }).code, 'EGRESS_DENIED');
  // "web" names 127.0.0.1 and localhost; "other" names nothing.
  const issued = s.cli('token', 'issue', '--agent', 'other');
  assert.equal(issued.code, 0, issued.stderr);
  const token = issued.stdout.trim();
  const asOther = ['-x', `http://other:${token}@127.0.0.1:${shared}`];
  for (const target of [
    `http://127.0.0.1:${up}/`,
    `http://localhost:${up}/`,
    `http://localhost.:${up}/`,
    `http://user:pw@127.0.0.1:${up}/`,
    `http://[::1]:${up}/`,
    // IPv4 inside IPv6: the URL parser writes these in hex (::ffff:7f00:1).
    `http://[::ffff:127.0.0.1]:${up}/`,
    `http://[64:ff9b::7f00:1]:${up}/`,
  ]) {
    const r = await curl(...asOther, target);
    assert.equal(r.status, 403, `${target}: ${r.body}`);
    const denial = JSON.parse(r.body) as { code: string; human_message: string };
    assert.equal(denial.code, 'EGRESS_DENIED', target);
    assert.match(denial.human_message, /resolves to a loopback address/);
  }
  for (const target of [`https://[::ffff:7f00:1]:${up}/`, `https://127.0.0.1:${up}/`, `https://${outside}:${up}/`])
    assert.match((await curl('-k', ...asOther, target)).stderr, /CONNECT tunnel failed, response 403/, target);
  // This machine's own outside address reaches its services as loopback does (the upstream listens on
  // 0.0.0.0). A machine whose outside address is in a reserved net (this VM's, 192.0.2.0/24) is refused
  // for that first; a public one for being the machine's own.
  const self = await curl(...asOther, `http://${outside}:${up}/self`);
  assert.equal(self.status, 403, self.body);
  assert.match(
    (JSON.parse(self.body) as { human_message: string }).human_message,
    /resolves to a (local-interface|documentation \(reserved\)|private) address/,
  );
  assert.ok(!seen.some((r) => r.url === '/self'), 'the upstream never saw it');
  assert.equal((await curl('-x', `http://127.0.0.1:${own}`, `http://${outside}:${up}/named`)).status, 200, 'named in egress allow');
  assert.equal((await curl('-x', `http://127.0.0.1:${own}`, `http://localhost:${up}/named`)).status, 200, 'named in egress allow');
});

test('CONNECT: a TLS tunnel when permitted (the proxy does not look inside); plain HTTP through CONNECT is cut; refused with 403', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-tls-'));
  const { key, cert } = selfSignedCert(dir);
  const tls = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_req, res) => res.end('over tls'));
  await new Promise<void>((r) => tls.listen(0, '127.0.0.1', () => r()));
  try {
    const port = (tls.address() as { port: number }).port;
    const ok = await curl('-k', '-x', `http://127.0.0.1:${own}`, `https://127.0.0.1:${port}/`);
    assert.equal(ok.status, 200, ok.stderr);
    assert.equal(ok.body, 'over tls');
    // A tunnel carries no credential (nothing could be written into it): none is issued or recorded.
    const tunnels = readRecords(join(s.dir, 'wal')).filter((r) => r.record.type === 'decision' && r.record.tool === 'http/connect');
    assert.ok(tunnels.length > 0);
    for (const t of tunnels) assert.equal(t.record.credential_ref, undefined, JSON.stringify(t.record));
    const before = seen.length;
    const plain = await curl('-p', '-x', `http://127.0.0.1:${own}`, `http://127.0.0.1:${up}/smuggled`);
    assert.notEqual(plain.status, 200);
    assert.equal(seen.length, before, 'plain HTTP inside CONNECT never reached the upstream');
    const refused = await curl('-k', '-x', `http://127.0.0.1:${own}`, 'https://blocked.example/');
    assert.match(refused.stderr, /403/);
    const status = s.cli('status');
    assert.equal(status.code, 0, 'cut tunnels and resets leave the daemon serving');
    assert.match(status.stdout, new RegExp(`http {12}shared :${shared}, web :${own} \\(https: tunnelled, not inspected\\)`));
  } finally {
    tls.close();
  }
});

test('CONNECT to a target that is not a host name or IP address with a port from 1 to 65535 is refused before any decision', async () => {
  const raw = (target: string) =>
    new Promise<string>((resolve, reject) => {
      const c = createConnection(own, '127.0.0.1', () => c.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`));
      let got = '';
      c.on('data', (d) => (got += String(d)));
      c.on('end', () => resolve(got));
      c.on('error', reject);
    });
  const before = walText(join(s.dir, 'wal')).split('http/connect').length;
  for (const target of ['api.example.com/x.evil.test:443', 'api.example.com?x=evil.test:443', '127.0.0.1:0', '127.0.0.1:70000'])
    assert.match(await raw(target), /^HTTP\/1\.1 400 [^]*a port from 1 to 65535/, target);
  assert.equal(walText(join(s.dir, 'wal')).split('http/connect').length, before, 'nothing was decided or recorded');
});

test('an upstream answering with a status no HTTP server may send (099) gets a 502, and the daemon serves on', async () => {
  const odd = createNetServer((c) => c.once('data', () => c.end('HTTP/1.1 099 Odd\r\ncontent-length: 0\r\n\r\n')));
  await new Promise<void>((r) => odd.listen(0, '127.0.0.1', () => r()));
  try {
    const port = (odd.address() as { port: number }).port;
    const r = await curl('-x', `http://127.0.0.1:${own}`, `http://127.0.0.1:${port}/odd`);
    assert.equal(r.status, 502, r.body + r.stderr);
    assert.match(r.body, /answered with status 99/);
    assert.equal((await curl('-x', `http://127.0.0.1:${own}`, `http://127.0.0.1:${up}/after`)).status, 200, 'still serving');
  } finally {
    odd.close();
  }
});

test('the shared port needs proxy credentials; credentials and secret headers never reach the log', async () => {
  const anonymous = await curl('-x', `http://127.0.0.1:${shared}`, `http://127.0.0.1:${up}/`);
  assert.equal(anonymous.status, 407, JSON.stringify(anonymous));
  const r = await curl(
    '-x',
    `http://127.0.0.1:${own}`,
    '-H',
    'Authorization: Bearer SECRET-AUTH-123',
    '-H',
    'X-Api-Key: SECRET-KEY-456',
    `http://127.0.0.1:${up}/private`,
  );
  assert.equal(r.status, 200);
  assert.equal(seen.at(-1)!.auth, 'Bearer SECRET-AUTH-123', 'the upstream gets the header');
  const logged = walText(join(s.dir, 'wal'));
  assert.ok(logged.includes('"tool":"http/get"'), 'the decision is in the log (its arguments only as a hash)');
  assert.ok(!logged.includes('SECRET-AUTH-123') && !logged.includes('SECRET-KEY-456'), 'no secret is');
});

test('a single agent with its own port: the launcher points HTTP_PROXY at it, so an unmodified client is governed', async () => {
  const port = await freePort();
  const solo = makeStack(`${RUNTIME}
agent "solo" {
  default deny
  enforcement {
    http_proxy_port = ${port}
  }
  rules {
    permit http/get
  }
  egress {
    allow = ["127.0.0.1"]
  }
}
`);
  try {
    assert.equal(solo.cli('apply').code, 0);
    const launcher = join(solo.dir, '.faramesh', 'bin', 'agent');
    const run = (...args: string[]) =>
      new Promise<string>((resolve) =>
        execFile(
          launcher,
          ['--', 'curl', '-s', '-w', ' %{http_code}', ...args],
          { encoding: 'utf8', env: { PATH: process.env.PATH } },
          (_e, out) => resolve(out),
        ),
      );
    assert.equal(await run(`http://127.0.0.1:${up}/through-env`), 'hello GET /through-env (0 bytes) 200');
    assert.match(await run('-X', 'POST', `http://127.0.0.1:${up}/nope`), /POLICY_DENY.* 403$/);
  } finally {
    solo.cli('apply', '--stop');
  }
});
