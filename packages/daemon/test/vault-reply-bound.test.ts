/** A Vault reply is read up to a bound: one of megabytes is refused, never held whole in the daemon's memory. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { vaultCall, VaultError } from '../src/credentials/vault.js';

test('a Vault reply over 1 MiB is refused, and a small one is read', async () => {
  let size = 100;
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ data: { data: { value: 'x'.repeat(size) } } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const ok = await vaultCall({ addr }, 't', 5000, 'GET', 'secret/data/a');
    assert.equal(((ok.data as { data: { value: string } }).data.value as string).length, 100);
    size = 3 << 20;
    await assert.rejects(vaultCall({ addr }, 't', 5000, 'GET', 'secret/data/a'), (e: unknown) => {
      assert.ok(e instanceof VaultError);
      assert.match((e as Error).message, /over 1 MiB: refused/);
      return true;
    });
  } finally {
    server.close();
  }
});
