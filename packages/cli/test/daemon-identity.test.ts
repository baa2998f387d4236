import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { argsHash, readRecords } from '@faramesh/audit';
import { makeStack } from './daemon-helpers.js';

const policy = (extra = '') => `runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
  ${extra}
}

identity "corp" {
  type           = "oidc"
  issuer         = "https://idp.example.test"
  audience       = "faramesh"
  jwks_file      = "./jwks.json"
  claim_agent_id = "agent"
}

agent "bot" {
  default deny
  rules {
    permit crm/read if principal.role == "examiner"
  }
}
`;

async function keys(): Promise<{ signing: CryptoKey; stranger: CryptoKey; jwks: string }> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const other = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'EdDSA' };
  return { signing: privateKey, stranger: other.privateKey, jwks: JSON.stringify({ keys: [jwk] }) };
}

function token(
  key: CryptoKey,
  claims: Record<string, unknown>,
  o: { aud?: string; iss?: string; exp?: string | number } = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'EdDSA', kid: 'k1' })
    .setIssuer(o.iss ?? 'https://idp.example.test')
    .setAudience(o.aud ?? 'faramesh')
    .setIssuedAt()
    .setExpirationTime(o.exp ?? '10m')
    .sign(key);
}

test('principal.* is what the daemon verified: a signed principal_token for this agent counts; stated claims and bad tokens do not', async () => {
  const k = await keys();
  const s = makeStack(policy());
  writeFileSync(join(s.dir, 'jwks.json'), k.jwks);
  try {
    assert.equal(s.cli('apply').code, 0);
    const read = (extra: Record<string, unknown>) =>
      s.govern({ agent_id: 'bot', tool: 'crm', operation: 'read', args: { id: 1 }, ...extra });
    const examiner = { agent: 'bot', role: 'examiner' };

    // Claims the agent merely states are ignored (and the daemon log says so once).
    const stated = await read({ principal: { role: 'examiner' } });
    assert.equal(stated.effect, 'DENY');
    assert.equal(stated.reason_code, 'POLICY_DENY');
    assert.match(
      readFileSync(join(s.dir, '.faramesh', 'runtime', 'daemon.log'), 'utf8'),
      /agent bot sent principal claims without a principal_token: ignored/,
    );

    const examinerToken = await token(k.signing, examiner);
    assert.equal((await read({ principal_token: examinerToken })).effect, 'PERMIT');
    // A verified token wins over stated claims sent beside it.
    const clerk = await read({ principal_token: await token(k.signing, { agent: 'bot', role: 'clerk' }), principal: { role: 'examiner' } });
    assert.equal(clerk.effect, 'DENY');
    assert.equal(clerk.reason_code, 'POLICY_DENY');

    const refused: [string, string, RegExp][] = [
      ['another key', await token(k.stranger, examiner), /signature verification failed/],
      ['expired', await token(k.signing, examiner, { exp: Math.floor(Date.now() / 1000) - 60 }), /"exp" claim timestamp check failed/],
      ['another audience', await token(k.signing, examiner, { aud: 'someone-else' }), /unexpected "aud" claim value/],
      [
        'another issuer',
        await token(k.signing, examiner, { iss: 'https://evil.test' }),
        /issuer "https:\/\/evil\.test" is not one this stack trusts/,
      ],
      [
        'another agent',
        await token(k.signing, { agent: 'worker', role: 'examiner' }),
        /issued for "worker" \(claim agent\), not agent bot/,
      ],
      ['not a JWT', 'not-a-jwt', /not a JWT/],
    ];
    for (const [what, t, why] of refused) {
      const r = await read({ principal_token: t });
      assert.equal(r.effect, 'DENY', what);
      assert.equal(r.reason_code, 'IDENTITY_UNVERIFIED', what);
      assert.match(r.structured_denial!.human_message, why, what);
      assert.deepEqual(r.structured_denial!.resolution, { type: 'manual_audit' });
    }
    assert.equal(s.cli('apply', '--stop').code, 0);
    // Every refusal is a recorded decision, and the log verifies.
    const codes = readRecords(join(s.dir, 'wal'))
      .map((r) => r.record)
      .filter((r) => r.type === 'decision')
      .map((r) => r.code ?? r.effect);
    assert.deepEqual(codes, ['POLICY_DENY', 'permit', 'POLICY_DENY', ...refused.map(() => 'IDENTITY_UNVERIFIED')]);
    // A decision made for a verified principal carries the hash of its claims (never the claims).
    const hashes = readRecords(join(s.dir, 'wal'))
      .map((r) => r.record)
      .filter((r) => r.type === 'decision')
      .map((r) => r.principal_claims_hash);
    assert.equal(hashes[1], argsHash(decodeJwt(examinerToken)));
    assert.match(String(hashes[2]), /^[0-9a-f]{64}$/);
    assert.notEqual(hashes[2], hashes[1]);
    assert.deepEqual([hashes[0], ...hashes.slice(3)], [undefined, ...refused.map(() => undefined)], 'stated claims and refused tokens');
    assert.ok(!readFileSync(join(s.dir, 'wal', 'seg-0000000000000000.wal'), 'utf8').includes('examiner'), 'no claim value in the log');
    assert.equal(s.cli('audit', 'verify').code, 0);
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});

test('runtime { trust_sdk_principal = true } takes stated claims; an identity without keys, issuer or audience, or with keys over plain HTTP, is refused at apply', async () => {
  const k = await keys();
  const s = makeStack(policy('trust_sdk_principal = true'));
  writeFileSync(join(s.dir, 'jwks.json'), k.jwks);
  try {
    assert.equal(s.cli('apply').code, 0);
    const r = await s.govern({ agent_id: 'bot', tool: 'crm', operation: 'read', args: {}, principal: { role: 'examiner' } });
    assert.equal(r.effect, 'PERMIT');
    // A token that fails still refuses the call, trusted claims or not.
    const bad = await s.govern({
      agent_id: 'bot',
      tool: 'crm',
      operation: 'read',
      args: {},
      principal: { role: 'examiner' },
      principal_token: 'x',
    });
    assert.equal(bad.reason_code, 'IDENTITY_UNVERIFIED');
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
  const broken = makeStack(policy().replace('jwks_file      = "./jwks.json"', 'jwks_file      = "./missing.json"'));
  const applied = broken.cli('apply');
  assert.equal(applied.code, 1);
  assert.match(applied.stderr, /identity "corp": cannot load the JWKS from \.\/missing\.json/);
  assert.equal(broken.cli('status').code, 1, 'nothing was started');
  // Verification that tokens issued elsewhere, or keys fetched in clear, would pass: refused too.
  for (const [from, to, why] of [
    ['  audience       = "faramesh"\n', '', /identity "corp" needs audience \(or client_id\)/],
    ['  issuer         = "https://idp.example.test"\n', '', /identity "corp" needs issuer/],
    ['jwks_file      = "./jwks.json"', 'jwks_url = "http://idp.example.test/jwks.json"', /jwks_url must be an https:\/\//],
    [
      'issuer         = "https://idp.example.test"\n  audience       = "faramesh"\n  jwks_file      = "./jwks.json"',
      'issuer         = "http://idp.example.test"\n  audience       = "faramesh"',
      /without jwks_url or jwks_file, the key set is found through the issuer's OpenID discovery, and issuer must then be an https:\/\//,
    ],
  ] as const) {
    const weak = makeStack(policy().replace(from, to));
    const r = weak.cli('apply');
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, why);
    assert.equal(weak.cli('status').code, 1, 'nothing was started');
  }
});

test('a key set file is applied with the policy: a key taken out stops verifying once applied, and an edit not applied is never loaded', async () => {
  const k = await keys();
  const next = await keys();
  const s = makeStack(policy());
  const jwks = join(s.dir, 'jwks.json');
  writeFileSync(jwks, k.jwks);
  try {
    assert.equal(s.cli('apply').code, 0);
    const read = async (key: CryptoKey) =>
      s.govern({
        agent_id: 'bot',
        tool: 'crm',
        operation: 'read',
        args: {},
        principal_token: await token(key, { agent: 'bot', role: 'examiner' }),
      });
    assert.equal((await read(k.signing)).effect, 'PERMIT');
    // The old key is taken out, the new one put in: apply sees a change and swaps it in.
    writeFileSync(jwks, next.jwks);
    const applied = s.cli('apply');
    assert.equal(applied.code, 0, applied.stderr);
    assert.doesNotMatch(applied.stdout, /no changes/);
    assert.match((await read(k.signing)).reason_code ?? '', /IDENTITY_UNVERIFIED/);
    assert.equal((await read(next.signing)).effect, 'PERMIT');
    assert.match(s.cli('plan').stdout, /no changes|unchanged/i);
    // Edited but not applied: a daemon started from the applied policy refuses the key set it was not applied with.
    assert.equal(s.cli('apply', '--stop').code, 0);
    writeFileSync(jwks, k.jwks);
    const served = s.cli('serve');
    assert.notEqual(served.code, 0);
    assert.match(served.stdout + served.stderr, /jwks\.json changed since faramesh apply/);
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});

test('an identity naming only its issuer finds its keys by OpenID discovery; a document naming another issuer verifies nothing', async () => {
  const k = await keys();
  const fetched: string[] = [];
  const idp = createServer((req, res) => {
    fetched.push(req.url ?? '');
    const base = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
    const docs: Record<string, unknown> = {
      '/.well-known/openid-configuration': { issuer: base, jwks_uri: `${base}/keys` },
      '/keys': JSON.parse(k.jwks),
      '/evil/.well-known/openid-configuration': { issuer: 'https://evil.test', jwks_uri: `${base}/keys` },
    };
    const doc = docs[req.url ?? ''];
    res.writeHead(doc ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(doc ?? {}));
  });
  await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
  const discovered = (iss: string) =>
    policy()
      .replace('issuer         = "https://idp.example.test"', `issuer         = "${iss}"`)
      .replace('  jwks_file      = "./jwks.json"\n', '');
  const examiner = { agent: 'bot', role: 'examiner' };
  const s = makeStack(discovered(issuer));
  const evil = makeStack(discovered(`${issuer}/evil`));
  try {
    const checked = s.cli('check', '--strict');
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
    assert.equal(s.cli('apply').code, 0);
    const read = (t: string) => s.govern({ agent_id: 'bot', tool: 'crm', operation: 'read', args: {}, principal_token: t });
    assert.equal((await read(await token(k.signing, examiner, { iss: issuer }))).effect, 'PERMIT');
    const stranger = await read(await token(k.stranger, examiner, { iss: issuer }));
    assert.equal(stranger.reason_code, 'IDENTITY_UNVERIFIED');
    assert.deepEqual(fetched, ['/.well-known/openid-configuration', '/keys'], 'discovered once, keys fetched once');

    assert.equal(evil.cli('apply').code, 0);
    const r = await evil.govern({
      agent_id: 'bot',
      tool: 'crm',
      operation: 'read',
      args: {},
      principal_token: await token(k.signing, examiner, { iss: `${issuer}/evil` }),
    });
    assert.equal(r.reason_code, 'IDENTITY_UNVERIFIED');
    assert.match(r.structured_denial!.human_message, /names issuer "https:\/\/evil\.test", not http:\/\/127\.0\.0\.1:\d+\/evil/);
  } finally {
    s.cli('apply', '--stop');
    evil.cli('apply', '--stop');
    s.stop();
    evil.stop();
    idp.close();
  }
});
