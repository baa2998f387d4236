/**
 * A call whose principal token is being verified (its key set fetched) while a hot swap lands is
 * decided by the policy in force once it is verified, not by the one it found on arrival: in log
 * order the decisions switch to the new version once and never back, and a call answered after a
 * swap that denies its tool is not permitted by the policy swapped out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { readRecords } from '@faramesh/audit';
import { appliedStack, request, sleep } from './daemon-helpers.js';

const policy = (port: number, x: 'permit' | 'deny') => `runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
}

identity "corp" {
  type     = "oidc"
  issuer   = "https://idp.example.test"
  audience = "faramesh"
  jwks_url = "http://127.0.0.1:${port}/jwks"
}

agent "worker" {
  default deny
  rules {
    ${x} x
  }
}
`;

const operator = async (dir: string, method: string, params?: object) =>
  JSON.parse(await request(join(dir, '.faramesh', 'runtime', 'operator.sock'), JSON.stringify({ method, params }))) as {
    ok: boolean;
    result?: { policy_version?: string; versions?: { version: string }[] };
  };

test('a call verified across a hot swap is decided by the new policy, after the swap in log order', async () => {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'EdDSA' }] });
  // The key set answers at once, or (while `hold` is set) only once it is released.
  let hold: Promise<void> | undefined;
  let fetched = 0;
  const idp = createServer((_req, res) => {
    fetched++;
    void (hold ?? Promise.resolve()).then(() => res.writeHead(200, { 'content-type': 'application/json' }).end(jwks));
  });
  await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
  const port = (idp.address() as AddressInfo).port;
  const s = appliedStack(policy(port, 'permit'));
  try {
    writeFileSync(join(s.dir, 'governance.fms'), policy(port, 'deny'));
    assert.equal(s.cli('apply').code, 0);
    const [permitting, denying] = (await operator(s.dir, 'policy.history')).result!.versions!.map((v) => v.version);
    // In force: the permitting version, its key set not fetched yet.
    assert.equal((await operator(s.dir, 'rollback', { to: permitting, by: 'op' })).ok, true);
    const token = await new SignJWT({ sub: 'u' })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'k1' })
      .setIssuer('https://idp.example.test')
      .setAudience('faramesh')
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(privateKey);
    let release!: () => void;
    hold = new Promise((r) => (release = r));
    const before = fetched;
    const slow = s.govern({ agent_id: 'worker', tool: 'x', principal_token: token });
    while (fetched === before) await sleep(10);
    // While its token is being verified, the operator swaps in the version that denies x.
    const swapped = await operator(s.dir, 'rollback', { to: denying, by: 'op' });
    assert.equal(swapped.result?.policy_version, denying);
    const plain = await s.govern({ agent_id: 'worker', tool: 'x' });
    assert.equal(plain.effect, 'DENY');
    hold = undefined;
    release();
    const late = await slow;
    assert.equal(late.effect, 'DENY', 'answered after the swap to a policy denying x, yet permitted');
    let current: string | undefined;
    let sawCurrent = false;
    const back: string[] = [];
    for (const { record: r } of readRecords(join(s.dir, 'wal'))) {
      if (r.type === 'policy_applied') [current, sawCurrent] = [String(r.policy_version), false];
      else if (r.type === 'decision') {
        if (r.policy_version === current) sawCurrent = true;
        else if (sawCurrent) back.push(`${String(r.id)} under ${String(r.policy_version).slice(0, 8)}`);
      }
    }
    assert.deepEqual(back, [], 'decisions of the version swapped out, recorded after those of the new one');
  } finally {
    s.cli('apply', '--stop');
    s.stop();
    idp.close();
  }
});
