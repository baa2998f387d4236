/**
 * An issuer's OpenID discovery document is read up to a bound: one of megabytes (or one that never
 * ends) is refused, not held whole in the daemon's memory, and the token with it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPair, SignJWT } from 'jose';
import { PrincipalGate } from '../src/core/principals.js';

test('a discovery document of megabytes is refused as too large', async () => {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    // 8 MiB, and never a whole document: read whole, it would be held, then fail to parse.
    res.end(`{"issuer":"${' '.repeat(8 << 20)}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const gate = new PrincipalGate(
      [{ name: 'idp', type: 'oidc', ref: 'governance.fms:1', fields: { issuer, audience: 'a' } }],
      '/nonexistent',
      {},
      false,
    );
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA', kid: 'k1' })
      .setIssuer(issuer)
      .setAudience('a')
      .setExpirationTime('10m')
      .sign(privateKey);
    const r = await gate.resolve({ agent_id: 'bot', principal_token: token }, Date.now());
    assert.ok('refused' in r && /over 1 MiB/.test(r.refused), JSON.stringify(r));
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
