import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ed25519Signer, newEd25519Key } from '@faramesh/audit';
import { HttpApi } from '../src/wire/http-api.js';
import { TokenBook } from '../src/core/tokens.js';
import { StateSeal } from '../src/stack/sealed-state.js';

// GET /v1/approvals/<id> with an agent token asks as that agent: the daemon then answers `unknown` for
// another agent's approval. Asked as nobody in particular, it would tell one agent where another's stands.
test("an agent token reads approvals as its own agent; an operator token reads any agent's", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'faramesh-http-approval-'));
  const k = new Ed25519Signer('faramesh/test', newEd25519Key());
  const tokens = new TokenBook(join(dir, 'tokens.json'), new StateSeal(k, [k]));
  const askedAs: (string | undefined)[] = [];
  const api = new HttpApi({
    state: () => 'READY',
    tokens,
    evaluate: () => Promise.resolve({ status: 200, body: {} }),
    spawnEnded: () => Promise.resolve({ status: 200, body: {} }),
    approval: (id, agent) => (askedAs.push(agent), { approval_id: id, status: 'unknown' }),
    operate: () => Promise.resolve('{"ok":true,"result":{}}'),
    metrics: () => '',
  });
  const { port } = await api.listen({ host: '127.0.0.1', port: 0 });
  const get = async (token: string) =>
    (await fetch(`http://127.0.0.1:${port}/v1/approvals/apr-1`, { headers: { authorization: `Bearer ${token}` } })).status;
  try {
    tokens.load();
    const agent = (await tokens.issue('agent', 'bot-token', 'bot', Date.now())).token;
    const operator = (await tokens.issue('operator', 'ops', undefined, Date.now())).token;
    assert.equal(await get(agent), 200);
    assert.equal(await get(operator), 200);
    assert.deepEqual(askedAs, ['bot', undefined]);
  } finally {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
