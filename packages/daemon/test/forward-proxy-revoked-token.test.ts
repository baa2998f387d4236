/**
 * On the shared forward-proxy port an agent token opens an inspected tunnel; the requests inside
 * it carry no token of their own. A token revoked while its tunnel is open must not keep speaking
 * for the agent there: each request inside is refused (407) once the token is no longer valid.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ForwardProxy } from '../src/http-proxy/forward.js';
import { StackCa } from '../src/http-proxy/stack-ca.js';
import type { GovernParams, GovernResult } from '../src/wire/agent-protocol.js';

test('a token revoked while its inspected tunnel is open no longer speaks for the agent inside it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'faramesh-fwd-revoke-'));
  const ca = await StackCa.load(join(dir, 'keys'), join(dir, 'publish'));
  const tokens = new Map([['fmt_web', 'web']]);
  const decided: string[] = [];
  const proxy = new ForwardProxy({
    lookup: async () => ['127.0.0.1'],
    // The tunnel is permitted; every request inside it is denied (the upstream is never reached).
    decide: (p: GovernParams, tool: string): GovernResult => {
      decided.push(`${p.agent_id} ${tool}`);
      return tool === 'http/connect'
        ? ({ effect: 'PERMIT', action_id: 'action-1' } as GovernResult)
        : ({ effect: 'DENY', structured_denial: { code: 'POLICY_DENY', human_message: 'no' } } as GovernResult);
    },
    agentFor: (token) => tokens.get(token),
    ready: () => true,
    say: () => {},
    inspect: { ca, host: () => true },
  });
  const port = await proxy.listen(0);
  try {
    const raw = connect(port, '127.0.0.1');
    await new Promise((r) => raw.once('connect', r));
    raw.write('CONNECT 127.0.0.1:9 HTTP/1.1\r\nHost: 127.0.0.1:9\r\nProxy-Authorization: Bearer fmt_web\r\n\r\n');
    const established = await new Promise<string>((r) => raw.once('data', (d: Buffer) => r(d.toString())));
    assert.match(established, /^HTTP\/1\.1 200/);
    const tls = tlsConnect({ socket: raw, ca: ca.certPem, host: '127.0.0.1' });
    await new Promise((r) => tls.once('secureConnect', r));
    let got = '';
    tls.on('data', (d: Buffer) => (got += d.toString()));
    tls.on('error', () => {});
    const get = async (path: string) => {
      got = '';
      tls.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n`);
      const end = Date.now() + 3000;
      while (!/\r\n\r\n/.test(got) && !tls.destroyed && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      return Number(/^HTTP\/1\.1 (\d+)/.exec(got)?.[1] ?? 0);
    };
    assert.equal(await get('/one'), 403, 'decided as the agent, and denied');
    assert.deepEqual(decided, ['web http/connect', 'web http/get']);
    tokens.delete('fmt_web'); // faramesh token revoke
    const after = await get('/two');
    assert.deepEqual(decided, ['web http/connect', 'web http/get'], 'nothing more is decided for the agent');
    assert.equal(after, 407);
    tls.destroy();
  } finally {
    await proxy.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
