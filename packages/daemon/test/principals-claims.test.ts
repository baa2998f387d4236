/** What a verified principal_token's claims become: principal.* as the policy reads it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSign, KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base64url, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { argsHash } from '@faramesh/audit';
import { PrincipalGate } from '../src/core/principals.js';

const ISS = 'https://idp.example.test';

/** A gate over one OIDC issuer whose key set is a file, and ways to sign tokens with its key. */
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
  /** A token signed over the payload exactly as written (JSON a library would not produce). */
  const raw = (payload: string) => {
    const input = `${base64url.encode(JSON.stringify({ alg: 'RS256', kid: 'k1' }))}.${base64url.encode(payload)}`;
    const signature = createSign('RSA-SHA256').update(input).sign(KeyObject.from(privateKey));
    return `${input}.${base64url.encode(signature)}`;
  };
  return { gate, signed, raw, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('claims the log cannot hash (a number that reads as Infinity) refuse the token, never reach the decision', async () => {
  const { gate, raw, done } = await setup();
  try {
    const exp = Math.floor(Date.now() / 1000) + 600;
    const r = await gate.resolve(
      { agent_id: 'bot', principal_token: raw(`{"iss":"${ISS}","aud":"faramesh","exp":${exp},"n":1e400}`) },
      Date.now(),
    );
    assert.ok('refused' in r, `refused, not ${JSON.stringify(r)}`);
    assert.match(r.refused, /Infinity/);
    // A verified principal is one the record can hash.
    const ok = await gate.resolve(
      { agent_id: 'bot', principal_token: raw(`{"iss":"${ISS}","aud":"faramesh","exp":${exp},"n":1}`) },
      Date.now(),
    );
    assert.ok('principal' in ok && ok.principal);
    assert.match(argsHash(ok.principal), /^[0-9a-f]{64}$/);
  } finally {
    done();
  }
});

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
