import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpApi } from '../src/wire/http-api.js';
import { parseStrictJson } from '../src/http-proxy/body.js';
import { stubHandlers } from './http-api-fixtures.js';

// 12345678901234567999 reads as 12345678901234567000: the policy, the log and an approval would judge
// another account than the tool (or the upstream, which gets the bytes) is given.
test('/v1/evaluate and a reverse-proxied JSON body refuse an integer that JSON reads rounded', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'faramesh-http-rounded-'));
  const handlers = stubHandlers(dir);
  let decided = 0;
  const api = new HttpApi({ ...handlers, evaluate: () => (decided++, Promise.resolve({ status: 200, body: { effect: 'PERMIT' } })) });
  const { port } = await api.listen({ host: '127.0.0.1', port: 0 });
  try {
    const post = (account: string) =>
      fetch(`http://127.0.0.1:${port}/v1/evaluate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: `{"agent_id":"bot","tool_id":"stripe/transfer","args":{"to_account":${account}}}`,
      });
    const refused = await post('12345678901234567999');
    assert.equal(refused.status, 400);
    assert.match(((await refused.json()) as { error: { message: string } }).error.message, /integer 12345678901234567999 reads as/);
    assert.equal(decided, 0);
    assert.equal((await post('"12345678901234567999"')).status, 200);
    assert.equal(decided, 1);
  } finally {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(() => parseStrictJson('{"amount": 9007199254740993}'), /integer 9007199254740993 reads as 9007199254740992/);
  assert.deepEqual(parseStrictJson('{"amount": 9007199254740992}'), { amount: 9007199254740992 });
});
