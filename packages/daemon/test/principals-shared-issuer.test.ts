import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { PrincipalGate } from '../src/core/principals.js';

const app = (name: string, audience: string) => ({
  name,
  type: 'oidc',
  ref: 'governance.fms:1',
  fields: { issuer: 'https://idp.example.test', audience, jwks_file: './jwks.json' },
});

test('two identities of one IdP (same issuer, other audiences): a token for either verifies, one for neither is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-iss-'));
  try {
    const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'EdDSA' }] }));
    const gate = new PrincipalGate([app('app-a', 'a'), app('app-b', 'b')], dir, {}, false);
    const token = (aud: string) =>
      new SignJWT({ role: 'examiner' })
        .setProtectedHeader({ alg: 'EdDSA', kid: 'k1' })
        .setIssuer('https://idp.example.test')
        .setAudience(aud)
        .setExpirationTime('10m')
        .sign(privateKey);
    for (const aud of ['a', 'b']) {
      const r = await gate.resolve({ agent_id: 'bot', principal_token: await token(aud) }, Date.now());
      assert.ok('principal' in r, `audience ${aud}: ${JSON.stringify(r)}`);
    }
    const other = await gate.resolve({ agent_id: 'bot', principal_token: await token('c') }, Date.now());
    assert.ok('refused' in other && /identity "app-a": .*aud.*; identity "app-b": .*aud/.test(other.refused), JSON.stringify(other));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
