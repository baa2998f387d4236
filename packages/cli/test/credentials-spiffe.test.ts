/**
 * SPIFFE against a SPIRE Workload API over gRPC on a Unix socket: the identity provider attests each
 * agent by its X.509-SVID (recorded with its expiry; no SVID → IDENTITY_UNVERIFIED; rotations count at
 * the next call), and the `spiffe` credential provider injects a JWT-SVID for the audience in scope
 * (reused while fresh, never logged, CREDENTIAL_UNAVAILABLE when the agent is down). A daemon whose
 * Workload API does not answer does not start.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { FakeSpire } from './fake-spire.js';
import { decisionRecords, makeStack, until, walText, type Stack } from './daemon-helpers.js';

const OPS = 'spiffe://example.org/agents/ops';
const LATE = 'spiffe://example.org/agents/late';

const policy = (socket: string) => `runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
}

identity "spire" {
  type         = "spiffe"
  socket       = "unix://${socket}"
  trust_domain = "example.org"
}

provider "workload" {
  type         = "spiffe"
  socket       = "${socket}"
  trust_domain = "example.org"
}

agent "ops" {
  default deny
  rules {
    permit api/call
    permit api/other
    permit plain
  }
  credential "api" {
    provider = "workload"
    scope    = ["api.example.com"]
    tools    = ["api/call"]
  }
  credential "other" {
    provider = "workload"
    scope    = ["other.example.com"]
    tools    = ["api/other"]
  }
}

agent "late" {
  default deny
  rules {
    permit plain
  }
}
`;

let spire: FakeSpire;
let s: Stack;
before(async () => {
  spire = await FakeSpire.start(mkdtempSync(join(tmpdir(), 'fm-spire-')));
  await spire.setSvids([OPS]);
  s = makeStack(policy(spire.socket));
  const applied = await s.cliAsync('apply');
  assert.equal(applied.code, 0, applied.stderr + applied.stdout);
});
after(async () => {
  await s.cliAsync('apply', '--stop');
  await spire.close();
});

const records = () => decisionRecords(s);
const logBytes = () => walText(join(s.dir, 'wal'));

test('a JWT-SVID for the agent and the audience in scope, injected for the call, reused while fresh, never logged', async () => {
  const reply = await s.govern({ agent_id: 'ops', tool_id: 'api/call', args: {} });
  assert.equal(reply.effect, 'PERMIT', JSON.stringify(reply));
  const credential = reply.credential as { value: string; header: string; expires_at: string };
  assert.equal(credential.header, 'Authorization');
  const jwt = credential.value.replace(/^Bearer /, '');
  const claims = decodeJwt(jwt);
  assert.equal(claims.sub, OPS);
  assert.deepEqual(claims.aud, ['api.example.com']);
  const calls = spire.jwtCalls;
  const again = await s.govern({ agent_id: 'ops', tool_id: 'api/call', args: {} });
  assert.equal((again.credential as { value: string }).value, credential.value, 'reused while fresh');
  assert.equal(spire.jwtCalls, calls, 'without asking the Workload API again');

  const r = (await records()).find((x) => x.tool === 'api/call')!;
  const ref = r.credential_ref as { provider: string; scope: string[]; issuance_id: string; ttl_s: number };
  assert.equal(ref.provider, 'workload');
  assert.deepEqual(ref.scope, ['api.example.com']);
  assert.match(ref.issuance_id, /^spiffe:[0-9a-f]{24}$/);
  assert.ok(ref.ttl_s > 200 && ref.ttl_s <= 300, `a 5-minute JWT-SVID, ${ref.ttl_s}s left`);
  assert.ok(!logBytes().includes(jwt), 'the JWT-SVID never reaches the log');
});

test('each record names the SVID that attested the agent; an agent without one is denied', async () => {
  assert.equal((await s.govern({ agent_id: 'ops', tool_id: 'plain', args: {} })).effect, 'PERMIT');
  const late = await s.govern({ agent_id: 'late', tool_id: 'plain', args: {} });
  assert.equal(late.effect, 'DENY');
  assert.equal(late.reason_code, 'IDENTITY_UNVERIFIED');
  assert.match(late.structured_denial!.human_message, /no current SVID attests agent late \(spiffe:\/\/example\.org\/agents\/late\)/);
  const rs = await records();
  const ops = rs.findLast((x) => x.agent_id === 'ops')!;
  assert.equal(ops.agent_svid, OPS);
  assert.ok(Date.parse(String(ops.agent_svid_expiry)) > Date.now() + 3_000_000, 'the leaf expiry, an hour out');
  assert.equal(rs.findLast((x) => x.agent_id === 'late')!.code, 'IDENTITY_UNVERIFIED');
  const verified = await s.cliAsync('audit', 'verify');
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);
});

test('rotations on the stream count at the next call; a broken stream is reopened', async () => {
  await spire.setSvids([OPS, LATE]);
  await until('late is attested', async () => (await s.govern({ agent_id: 'late', tool_id: 'plain', args: {} })).effect === 'PERMIT');
  spire.dropStreams();
  await spire.setSvids([LATE]);
  await new Promise((r) => setTimeout(r, 300));
  await spire.setSvids([LATE]);
  await until(
    'ops lost its SVID',
    async () => (await s.govern({ agent_id: 'ops', tool_id: 'plain', args: {} })).reason_code === 'IDENTITY_UNVERIFIED',
  );
  const status = JSON.parse((await s.cliAsync('status', '--format', 'json')).stdout) as { identity: { provider: string; svids: string[] } };
  assert.deepEqual(status.identity.svids, [LATE]);
  assert.match((await s.cliAsync('status')).stdout, /Identity\n {2}spire +spiffe:\/\/example\.org · 1 SVIDs/);
  await spire.setSvids([OPS, LATE]);
  await until('ops is back', async () => (await s.govern({ agent_id: 'ops', tool_id: 'plain', args: {} })).effect === 'PERMIT');
});

test('the Workload API down: a credential it must issue is CREDENTIAL_UNAVAILABLE (fail closed)', async () => {
  spire.down = true;
  try {
    const r = await s.govern({ agent_id: 'ops', tool_id: 'api/other', args: {} });
    assert.equal(r.effect, 'DENY');
    assert.equal(r.reason_code, 'CREDENTIAL_UNAVAILABLE');
    assert.match(r.structured_denial!.human_message, /workload provider: Workload API: agent is shutting down/);
  } finally {
    spire.down = false;
  }
  assert.equal((await s.govern({ agent_id: 'ops', tool_id: 'api/other', args: {} })).effect, 'PERMIT');
});

test('an apply naming an unusable SPIFFE socket is refused, and the running daemon keeps serving', async () => {
  writeFileSync(
    join(s.dir, 'governance.fms'),
    policy(spire.socket).replace(`socket       = "unix://${spire.socket}"`, 'socket       = "relative.sock"'),
  );
  const r = await s.cliAsync('apply');
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout + r.stderr, /absolute Unix socket path/);
  // Past the Workload API's 5 s start window: nothing left behind may take the daemon down.
  await new Promise((resolve) => setTimeout(resolve, 6000));
  assert.equal((await s.govern({ agent_id: 'ops', tool_id: 'plain', args: {} })).effect, 'PERMIT');
  writeFileSync(join(s.dir, 'governance.fms'), policy(spire.socket));
});

test('a daemon whose Workload API does not answer does not start', async () => {
  const t = makeStack(policy(join(mkdtempSync(join(tmpdir(), 'fm-nospire-')), 'absent.sock')));
  const r = await t.cliAsync('apply');
  assert.notEqual(r.code, 0);
  assert.match(r.stdout + r.stderr, /identity "spire": the SPIFFE Workload API at .*absent\.sock sent no X\.509-SVIDs within 5000 ms/);
  t.stop();
});
