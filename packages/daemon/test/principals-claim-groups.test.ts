import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { PrincipalGate } from '../src/core/principals.js';

const ISS = 'https://idp.example.test';

async function setup(fields: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'fm-claims-'));
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' }] }));
  const identity = {
    name: 'corp',
    type: 'oidc',
    ref: 'governance.fms:1',
    fields: { issuer: ISS, audience: 'faramesh', jwks_file: './jwks.json', ...fields },
  };
  const gate = new PrincipalGate([identity], dir, {}, false);
  const signed = (claims: Record<string, unknown>) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(ISS)
      .setAudience('faramesh')
      .setExpirationTime('10m')
      .sign(privateKey);
  return { gate, signed, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('claim_groups names the claim that becomes principal.groups: without it, principal.groups is absent (not another claim)', async () => {
  const { gate, signed, done } = await setup({ claim_groups: 'roles' });
  try {
    const groups = async (claims: Record<string, unknown>) => {
      const r = await gate.resolve({ agent_id: 'bot', principal_token: await signed(claims) }, Date.now());
      assert.ok('principal' in r && r.principal, JSON.stringify(r));
      return r.principal.groups;
    };
    assert.deepEqual(await groups({ roles: ['admin'] }), ['admin']);
    assert.deepEqual(await groups({ roles: ['user'], groups: ['admin'] }), ['user']);
    assert.equal(await groups({ groups: ['admin'] }), undefined, 'a token without roles has no principal.groups');
  } finally {
    done();
  }
});
