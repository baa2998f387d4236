/**
 * A Vault that answers with a redirect is a failure, never followed: fetch would send the daemon's
 * X-Vault-Token (or an AppRole login's secret_id) on to whatever host the Location names, and hand
 * the call the secret that host made up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { vaultCall, vaultLogin, VaultError } from '../src/credentials/vault.js';

const listen = (s: Server) => new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)));

test('a 307 from Vault to another host is refused: neither the token nor the secret_id reaches it', async () => {
  const seen: { token: string | undefined; body: string }[] = [];
  const other = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ token: req.headers['x-vault-token'] as string | undefined, body });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ auth: { client_token: 'made-up', lease_duration: 60 }, data: { data: { value: 'made-up' } } }));
    });
  });
  // `localhost` against `127.0.0.1`: another origin, as a redirect off to another host would be.
  const elsewhere = `http://localhost:${await listen(other)}`;
  const vault = createServer((req, res) => {
    res.writeHead(307, { location: `${elsewhere}${req.url}` });
    res.end();
  });
  const addr = `http://127.0.0.1:${await listen(vault)}`;
  try {
    const refused = (e: unknown) => {
      assert.ok(e instanceof VaultError);
      assert.match((e as Error).message, /307 redirect, not followed/);
      return true;
    };
    await assert.rejects(vaultCall({ addr }, 'DAEMON-TOKEN', 3000, 'GET', 'kv/data/x'), refused);
    await assert.rejects(vaultLogin({ addr }, 'role', 'SECRET-ID', 3000), refused);
    assert.deepEqual(seen, []);
  } finally {
    vault.close();
    other.close();
  }
});
