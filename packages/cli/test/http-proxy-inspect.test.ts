/**
 * The forward proxy's opt-in TLS inspection: curl trusts the stack CA and goes through CONNECT;
 * each request inside the tunnel is its own decision (path rules apply to HTTPS), gets its brokered
 * credential injected, and goes on over verified TLS to the address the CONNECT checked. A client
 * that does not trust the CA, plain HTTP inside the tunnel, and a Host naming another server are
 * all refused.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, inspectedStack, makeStack, selfSignedCert, type Stack } from './daemon-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'fm-inspect-'));
const upstreamTls = selfSignedCert(dir, 'upstream');
const seen: { method: string; url: string; key?: string }[] = [];
const upstream = createHttpsServer({ key: readFileSync(upstreamTls.key), cert: readFileSync(upstreamTls.cert) }, (req, res) => {
  req.resume();
  req.on('end', () => {
    seen.push({ method: req.method!, url: req.url!, ...(req.headers['x-api-key'] ? { key: String(req.headers['x-api-key']) } : {}) });
    res.end(`secure hello ${req.url}`);
  });
});

let s: Stack;
let up: number;
let own: number;
let ca: string;
before(async () => {
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  up = (upstream.address() as { port: number }).port;
  own = await freePort();
  s = makeStack(
    inspectedStack('web', own),
    // The daemon verifies the upstream's certificate like any client: it trusts this one.
    { NODE_EXTRA_CA_CERTS: upstreamTls.cert },
  );
  const applied = await s.cliAsync('apply');
  assert.equal(applied.code, 0, applied.stderr + applied.stdout);
  const status = JSON.parse((await s.cliAsync('status', '--format', 'json')).stdout) as { proxies: { http: { https: string } } };
  ca = /stack CA (\S+)\)$/.exec(status.proxies.http.https)![1]!;
});
after(async () => {
  await s.cliAsync('apply', '--stop');
  upstream.close();
});

const curl = (...args: string[]) =>
  new Promise<{ status: number; body: string; stderr: string; code: number }>((resolve) =>
    execFile(
      'curl',
      ['-s', '-S', '-o', '-', '-w', '\n%{http_code}', ...args],
      { encoding: 'utf8', timeout: 30_000 },
      (e, stdout, stderr) => {
        const lines = stdout.split('\n');
        resolve({
          status: Number(lines.at(-1)),
          body: lines.slice(0, -1).join('\n'),
          stderr,
          code: typeof e?.code === 'number' ? e.code : 0,
        });
      },
    ),
  );

test('inside an inspected tunnel each request is decided on its path and gets its credential; the upstream is reached over verified TLS', async () => {
  assert.ok(existsSync(ca) && readFileSync(ca, 'utf8').includes('BEGIN CERTIFICATE'), 'the CA certificate is published for agents');
  const ok = await curl('--cacert', ca, '-x', `http://127.0.0.1:${own}`, `https://127.0.0.1:${up}/ok/1`);
  assert.equal(ok.status, 200, ok.stderr);
  assert.equal(ok.body, 'secure hello /ok/1');
  assert.deepEqual(seen.at(-1), { method: 'GET', url: '/ok/1', key: 'STUB-api' }, 'the credential was injected inside TLS');

  for (const path of ['/ok/../admin', '/ok/%2e%2e/admin', '/%6Fk/1/../../admin']) {
    const dotted = await curl('--path-as-is', '--cacert', ca, '-x', `http://127.0.0.1:${own}`, `https://127.0.0.1:${up}${path}`);
    assert.equal(dotted.status, 403, `${path} is /admin to the policy, as to the upstream`);
  }
  const decoded = await curl('--path-as-is', '--cacert', ca, '-x', `http://127.0.0.1:${own}`, `https://127.0.0.1:${up}/%6Fk//2`);
  assert.equal(decoded.status, 200, decoded.stderr);
  assert.deepEqual(seen.at(-1), { method: 'GET', url: '/ok/2', key: 'STUB-api' }, 'the upstream gets the path the policy judged');
  const before = seen.length;
  const denied = await curl('--cacert', ca, '-x', `http://127.0.0.1:${own}`, `https://127.0.0.1:${up}/admin`);
  assert.equal(denied.status, 403);
  assert.equal((JSON.parse(denied.body) as { effect: string }).effect, 'DENY');
  const post = await curl('--cacert', ca, '-x', `http://127.0.0.1:${own}`, '-d', 'x=1', `https://127.0.0.1:${up}/ok/post`);
  assert.equal(post.status, 403, 'a POST is its own decision, and no rule permits it');
  assert.equal(seen.length, before, 'nothing denied reached the upstream');

  const records = (await s.cliAsync('audit', 'tail', '--format', 'json', '--no-follow', '--limit', '50')).stdout;
  assert.match(records, /"tool":"http\/get"/);
  assert.ok(!records.includes('STUB-api'), 'the credential never reaches the log');
});

test('http/get asked for over the socket is not handed the credential the proxy attaches', async () => {
  const direct = await s.govern({ agent_id: 'web', tool_id: 'http/get', args: { host: '127.0.0.1', method: 'GET', path: '/ok/1' } });
  assert.equal(direct.effect, 'DENY');
  assert.equal(direct.structured_denial?.code, 'CREDENTIAL_UNAVAILABLE');
  assert.match(direct.structured_denial!.human_message, /http\/get is governed by the HTTP proxy/);
  assert.equal(direct.credential, undefined);
});

test('an agent started by the launcher trusts the stack CA and goes through the proxy with no flags of its own', async () => {
  const env = readFileSync(join(s.dir, '.faramesh', 'runtime', 'agent.env'), 'utf8');
  assert.ok(env.split('\n').includes(`NODE_EXTRA_CA_CERTS='${ca}'`), env);
  assert.match(env, /^SSL_CERT_FILE='.*proxy-ca-bundle\.pem'$/m);
  const launched = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(
      join(s.dir, '.faramesh', 'bin', 'agent'),
      ['curl', '-s', '-S', `https://127.0.0.1:${up}/ok/launched`],
      { encoding: 'utf8', timeout: 30_000 },
      (e, stdout, stderr) => resolve({ code: typeof e?.code === 'number' ? e.code : 0, stdout, stderr }),
    ),
  );
  assert.equal(launched.code, 0, launched.stderr);
  assert.equal(launched.stdout, 'secure hello /ok/launched');
  assert.deepEqual(seen.at(-1), { method: 'GET', url: '/ok/launched', key: 'STUB-api' });
});

test('refused: a client that does not trust the stack CA, plain HTTP inside the tunnel, a Host naming another server', async () => {
  const before = seen.length;
  const untrusted = await curl('-x', `http://127.0.0.1:${own}`, `https://127.0.0.1:${up}/ok/untrusted`);
  assert.notEqual(untrusted.code, 0, 'curl refuses the certificate');
  assert.match(untrusted.stderr, /certificate/i);
  const plain = await curl('-p', '-x', `http://127.0.0.1:${own}`, `http://127.0.0.1:${up}/ok/plain`);
  assert.notEqual(plain.status, 200);
  const misdirected = await curl(
    '--cacert',
    ca,
    '-x',
    `http://127.0.0.1:${own}`,
    '-H',
    'Host: other.example',
    `https://127.0.0.1:${up}/ok/x`,
  );
  assert.equal(misdirected.status, 421);
  assert.equal(seen.length, before, 'none reached the upstream');
  const status = await s.cliAsync('status');
  assert.equal(status.code, 0, 'the daemon serves on');
  assert.match(status.stdout, /https: inspected \(stack CA /);
});
