/**
 * A stored secret ending in a line break (`vault kv put … token=@file`) becomes a header value
 * without it, as HTTP would read it: the proxies refused such a value (502). Only the whitespace
 * around it goes; a line break inside stays in the value, for the proxies to refuse.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CredentialBroker } from '../src/credentials/broker.js';
import { withVaultStub } from './vault-stub.js';

const kv = (value: string) => JSON.stringify({ data: { data: { value }, metadata: { version: 1 } } });

test("a secret's surrounding whitespace is not part of its header value; a line break inside it is", async () => {
  let stored = '';
  await withVaultStub(
    (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(kv(stored));
    },
    async (ir, binding) => {
      const broker = new CredentialBroker({});
      let reads = 0;
      const issue = async (value: string) => {
        stored = value;
        // A minute apart: never served from the cache.
        const got = await broker.issue(ir, binding, 'pay', 'pay/charge', Date.now() + 60_000 * ++reads);
        assert.ok(got.ok, !got.ok ? got.message : '');
        return got.value;
      };
      assert.equal(await issue('sk_live_abc\n'), 'Bearer sk_live_abc');
      assert.equal(await issue(' \tsk_live_abc\r\n'), 'Bearer sk_live_abc');
      assert.equal(await issue('sk_live\nabc\n'), 'Bearer sk_live\nabc');
    },
  );
});
