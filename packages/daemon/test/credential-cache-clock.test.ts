/**
 * A cached KV read is reused for at most 30 s (never past the asking credential's TTL). The time a
 * call is decided at is the daemon's, which follows the system clock back when it steps back by more
 * than a week (a clock that had been set far ahead, corrected): a read cached before the step must
 * then be read again, not reused until the clock climbs back to when it was cached.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CredentialBroker } from '../src/credentials/broker.js';
import { withVaultStub } from './vault-stub.js';

test('a KV read cached before the clock stepped back is not reused after it', async () => {
  let version = 0;
  await withVaultStub(
    (_req, res) => {
      version++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ data: { data: { value: `sk_v${version}` }, metadata: { version } } }));
    },
    async (ir, binding) => {
      const broker = new CredentialBroker({});
      const value = async (nowMs: number) => {
        const got = await broker.issue(ir, binding, 'pay', 'pay/charge', nowMs);
        assert.ok(got.ok, JSON.stringify(got));
        return got.value;
      };
      const t = Date.parse('2027-03-01T00:00:00Z');
      assert.equal(await value(t), 'Bearer sk_v1');
      assert.equal(await value(t + 10_000), 'Bearer sk_v1', 'reused within 30 s');
      // The clock is corrected eight days back: the read from "the future" is no reason to skip Vault.
      const back = t - 8 * 86_400_000;
      assert.equal(await value(back), 'Bearer sk_v2');
      assert.equal(await value(back + 3_600_000), 'Bearer sk_v3', 'an hour later, still read afresh past 30 s');
    },
  );
});
