import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ed25519Signer, newEd25519Key } from '@faramesh/audit';
import { HttpApi } from '../src/wire/http-api.js';
import { TokenBook } from '../src/core/tokens.js';
import { StateSeal } from '../src/stack/sealed-state.js';

test('before the token file is checked, a bearer token gets DAEMON_NOT_READY, never a decision or an operator call', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'faramesh-http-tokens-'));
  const k = new Ed25519Signer('faramesh/test', newEd25519Key());
  const tokens = new TokenBook(join(dir, 'tokens.json'), new StateSeal(k, [k]));
  const reached: string[] = [];
  const api = new HttpApi({
    state: () => (tokens.loaded ? 'READY' : 'INITIALIZING'),
    tokens,
    evaluate: (_body, agent) => (reached.push(`evaluate ${agent}`), Promise.resolve({ status: 200, body: { effect: 'PERMIT' } })),
    spawnEnded: () => Promise.resolve({ status: 200, body: {} }),
    approval: () => ({}),
    operate: (_body, by) => (reached.push(`operate ${by}`), Promise.resolve('{"result":{}}')),
    metrics: () => '',
  });
  const { port } = await api.listen({ host: '127.0.0.1', port: 0 });
  const post = async (path: string, token: string) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ agent_id: 'bot', tool_id: 'x/y', args: {} }),
    });
    return { status: res.status, retry: res.headers.get('retry-after'), body: (await res.json()) as Record<string, unknown> };
  };
  try {
    const early = await post('/v1/evaluate', 'fmt_anything');
    assert.deepEqual([early.status, early.body.effect, early.body.reason_code, early.retry], [200, 'DENY', 'DAEMON_NOT_READY', '2']);
    const operator = await post('/v1/operator', 'fmt_anything');
    assert.deepEqual([operator.status, (operator.body.error as { code: string }).code], [503, 'not_ready']);
    assert.deepEqual(reached, []);
    tokens.load();
    const { token } = await tokens.issue('operator', 'ops', undefined, Date.now());
    assert.equal((await post('/v1/operator', token)).status, 200);
    assert.equal((await post('/v1/operator', 'fmt_anything')).status, 401);
    assert.deepEqual(reached, ['operate token:ops']);
  } finally {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
