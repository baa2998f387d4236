/**
 * The credential broker against a Vault that speaks the real HTTP API: a KV secret injected by the
 * HTTP proxy (the agent never sees it), a single-use child token minted per call for the socket
 * channel, credential_ref in the record and never the value, fail-closed CREDENTIAL_UNAVAILABLE when
 * Vault refuses or is down, scope_required's TTL ceiling, and stubs for undeclared providers.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { join } from 'node:path';
import { FakeVault, VAULT_PROVIDER } from './fake-vault.js';
import { appliedStack, decisionRecords, freePort, makeStack, providersProbed, RUNTIME, type Stack, walText } from './daemon-helpers.js';

const vault = new FakeVault();
/** A credential minted per call: a child token with the payments-write policy, for 30 s. */
const minted = (id: string, provider: string, tool: string) => `  credential "${id}" {
    provider = "${provider}"
    scope    = ["payments-write"]
    ttl      = "30s"
    tools    = ["${tool}"]
  }
`;
const received: Record<string, string | undefined>[] = [];
const upstream = createHttpServer((req, res) => {
  received.push({ key: req.headers['x-api-key'] as string | undefined, auth: req.headers.authorization });
  res.end('ok');
});

let s: Stack;
let proxyPort: number;
let up: number;

before(async () => {
  await vault.start();
  vault.kv.set('kv/payments/stripe', { value: 'sk_live_SECRET_FROM_VAULT' });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  up = (upstream.address() as { port: number }).port;
  proxyPort = await freePort();
  s = appliedStack(
    `${RUNTIME}
${VAULT_PROVIDER}
provider "capped" {
  type           = "vault"
  addr           = env("VAULT_ADDR")
  token          = env("VAULT_TOKEN")
  scope_required = true
}

provider "tight" {
  type           = "vault"
  addr           = env("VAULT_ADDR")
  token          = env("VAULT_TOKEN")
  scope_required = true
  max_ttl        = "10s"
}

agent "pay" {
  default deny
  enforcement {
    http_proxy_port = ${proxyPort}
  }
  rules {
    permit http/get
    permit stripe/charge
    permit tight/thing
    permit dev/thing
    permit region/thing
    permit wide/thing
    permit capped/thing
    permit typo/thing
    defer  tight/gated
  }
  rate_limit "tight/thing": 2 per minute
  budget daily {
    max       $5
    on_exceed deny
  }
  egress {
    allow = ["127.0.0.1"]
  }
  credential "stripe-key" {
    provider = "vault"
    path     = "payments/stripe"
    header   = "X-Api-Key"
    tools    = ["http/get"]
  }
${minted('charge', 'vault', 'stripe/charge')}  credential "tight" {
    provider = "tight"
    scope    = ["x"]
    ttl      = "1h"
    tools    = ["tight/thing", "tight/gated"]
  }
  credential "dev" {
    provider = "nowhere"
    tools    = ["dev/thing"]
  }
  credential "regional" {
    provider = env("REGION_PROVIDER")
    path     = "payments/stripe"
    header   = "X-Api-Key"
    tools    = ["region/thing"]
  }
  credential "wide" {
    backend = env("REGION_PROVIDER")
    tools   = ["wide/thing"]
  }
  credential "typo" {
    provider = env("TYPO_PROVIDER")
    tools    = ["typo/thing"]
  }
  credential "capped" {
    provider = "capped"
    scope    = ["payments-write"]
    ttl      = "5s"
    tools    = ["capped/thing"]
  }
}
`,
    { VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.root, REGION_PROVIDER: 'vault', TYPO_PROVIDER: 'vault-EU' },
  );
  // The start's probe of each provider is over before anything counts Vault's tokens or logins.
  await providersProbed(s);
});
after(() => {
  s.cli('apply', '--stop');
  upstream.close();
  vault.stop();
});

const records = () => decisionRecords(s, 100);
const logBytes = () => walText(join(s.dir, 'wal'));

test('HTTP proxy: the KV secret is injected into the request at the boundary; the client never sees it; the record has a credential_ref only', async () => {
  const out = await new Promise<string>((resolve) =>
    execFile('curl', ['-s', '-i', '-x', `http://127.0.0.1:${proxyPort}`, `http://127.0.0.1:${up}/charges`], { encoding: 'utf8' }, (_e, o) =>
      resolve(o),
    ),
  );
  assert.match(out, /200 OK/);
  assert.equal(received.at(-1)!.key, 'sk_live_SECRET_FROM_VAULT', 'the upstream got the secret');
  assert.doesNotMatch(out, /SECRET_FROM_VAULT/, 'the agent did not');
  const r = (await records()).find((x) => x.tool === 'http/get')!;
  const ref = r.credential_ref as { provider: string; path_hash: string; issuance_id: string; ttl_s: number };
  assert.equal(ref.provider, 'vault');
  assert.match(ref.path_hash, /^[0-9a-f]{64}$/);
  assert.equal(ref.issuance_id, 'kv:payments/stripe@3');
  assert.ok(typeof (r.latency_ms as { credential?: number }).credential === 'number');
  assert.ok(!logBytes().includes('SECRET_FROM_VAULT'), 'no secret in the log');
});

test('the socket channel: a single-use child token with the scope as policies and the TTL, for this call only', async () => {
  const reply = await s.govern({ agent_id: 'pay', tool_id: 'stripe/charge', args: { amount: 5 } });
  assert.equal(reply.effect, 'PERMIT');
  const credential = reply.credential as { value: string; header: string; expires_at: string };
  assert.equal(credential.header, 'Authorization');
  const token = credential.value.replace(/^Bearer /, '');
  const minted = vault.tokens.get(token)!;
  assert.deepEqual(minted.policies, ['payments-write']);
  assert.ok(minted.expires - Date.now() <= 30_000 && minted.expires - Date.now() > 20_000, 'a 30 s token');
  assert.equal(minted.meta.agent, 'pay');
  assert.equal(minted.meta.tool, 'stripe/charge');
  assert.ok(vault.use(token), 'valid once');
  assert.equal(vault.use(token), undefined, 'and only once');
  const second = await s.govern({ agent_id: 'pay', tool_id: 'stripe/charge', args: { amount: 5 } });
  assert.notEqual((second.credential as { value: string }).value, credential.value, 'a new token per call');
  const ref = (await records()).find((x) => x.tool === 'stripe/charge')!.credential_ref as { issuance_id: string; scope: string[] };
  assert.equal(ref.issuance_id, `accessor:${minted.accessor}`);
  assert.deepEqual(ref.scope, ['payments-write']);
  assert.ok(!logBytes().includes(token));
});

test('faramesh credential probe fetches a fresh one per block and prints no value; preview says what a call would get', async () => {
  const probe = await s.cliAsync('credential', 'probe', 'vault');
  // Every block the provider serves, env("…") ones included; the unscoped one fails as a call would.
  assert.equal(probe.code, 1, probe.stderr);
  assert.match(probe.stderr, /pay\/wide: vault provider: a minted token needs scope/);
  assert.match(probe.stdout, /pay\/regional: issued, ttl 30s, kv:payments\/stripe@3/);
  assert.match(probe.stdout, /pay\/stripe-key: issued, ttl 30s, kv:payments\/stripe@3/);
  assert.match(probe.stdout, /pay\/charge: issued, ttl 30s, accessor:/);
  assert.doesNotMatch(probe.stdout + probe.stderr, /SECRET_FROM_VAULT|hvs\./);
  assert.equal((await s.cliAsync('credential', 'probe', 'tight')).code, 1, 'past its max_ttl');
  assert.equal((await s.cliAsync('credential', 'probe', 'nope')).code, 1);
  const preview = await s.cliAsync('credential', 'preview', '--agent', 'pay', '--tool', 'stripe/charge');
  assert.equal(preview.code, 0);
  assert.match(preview.stdout, /credential "charge"/);
  assert.match(preview.stdout, /a child token with policies \[payments-write\]/);
  assert.match((await s.cliAsync('credential', 'preview', '--agent', 'pay', '--tool', 'other/thing')).stdout, /no credential is bound/);
});

test('credential probe and preview --format json: the same findings as one object, and still no value', async () => {
  const probe = await s.cliAsync('credential', 'probe', 'vault', '--format', 'json');
  assert.equal(probe.code, 1, probe.stderr);
  assert.doesNotMatch(probe.stdout + probe.stderr, /SECRET_FROM_VAULT|hvs\./);
  const { provider, results } = JSON.parse(probe.stdout) as {
    provider: string;
    results: { agent: string; credential: string; ok: boolean; ttl_s?: number; issuance_id?: string; error?: string }[];
  };
  assert.equal(provider, 'vault');
  const by = (id: string) => results.find((r) => r.credential === id);
  assert.deepEqual(by('stripe-key'), { agent: 'pay', credential: 'stripe-key', ok: true, ttl_s: 30, issuance_id: 'kv:payments/stripe@3' });
  assert.match(String(by('charge')?.issuance_id), /^accessor:/);
  assert.equal(by('wide')?.ok, false);
  assert.match(String(by('wide')?.error), /a minted token needs scope/);
  const preview = async (tool: string) => {
    const r = await s.cliAsync('credential', 'preview', '--agent', 'pay', '--tool', tool, '--format', 'json');
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as { agent: string; tool: string; credential: Record<string, unknown> | null };
  };
  assert.deepEqual(await preview('http/get'), {
    agent: 'pay',
    tool: 'http/get',
    credential: {
      id: 'stripe-key',
      ref: 'governance.fms:52',
      provider: 'vault',
      provider_type: 'vault',
      stub: false,
      what: 'KV read of payments/stripe',
      ttl_s: 30,
      header: 'X-Api-Key',
    },
  });
  const dev = (await preview('dev/thing')).credential!;
  assert.deepEqual([dev.provider, dev.provider_type, dev.stub, dev.header], ['nowhere', null, true, 'Authorization: Bearer …']);
  assert.deepEqual(await preview('other/thing'), { agent: 'pay', tool: 'other/thing', credential: null });
});

test('AppRole: the daemon logs in with role and secret_id once and reuses the token; a wrong secret_id is CREDENTIAL_UNAVAILABLE', async () => {
  vault.approles.set('role-payments', { secretId: 'secret-right', policies: ['broker'] });
  const app = makeStack(
    `${RUNTIME}
provider "approle" {
  type      = "vault"
  addr      = env("VAULT_ADDR")
  role      = "role-payments"
  secret_id = env("VAULT_SECRET_ID")
}

provider "badrole" {
  type      = "vault"
  addr      = env("VAULT_ADDR")
  role      = "role-payments"
  secret_id = "secret-wrong"
}

agent "pay" {
  default deny
  rules {
    permit stripe/charge
    permit stripe/refund
  }
${minted('charge', 'approle', 'stripe/charge')}${minted('refund', 'badrole', 'stripe/refund')}}
`,
    { VAULT_ADDR: vault.addr, VAULT_SECRET_ID: 'secret-right' },
  );
  try {
    const [before, okBefore] = [vault.logins, vault.loginsOk];
    assert.equal((await app.cliAsync('apply')).code, 0);
    await providersProbed(app);
    const first = await app.govern({ agent_id: 'pay', tool_id: 'stripe/charge', args: { amount: 1 } });
    const second = await app.govern({ agent_id: 'pay', tool_id: 'stripe/charge', args: { amount: 2 } });
    assert.equal(first.effect, 'PERMIT');
    assert.equal(second.effect, 'PERMIT');
    // The start probes each provider (badrole's login fails, and is tried again by the housekeeping
    // re-probe of failed providers once the daemon has run a second); the good role's one login, the
    // probe's or a call's, serves every call after.
    assert.equal(vault.loginsOk - okBefore, 1, 'one login for approle serves the probe and both calls');
    assert.ok(vault.logins - before - (vault.loginsOk - okBefore) >= 1, 'badrole was refused');
    const children = [...vault.tokens.values()].filter((t) => t.policies.includes('payments-write') && t.meta.agent === 'pay');
    assert.ok(children.length >= 2, 'each call got its own child token');
    const refused = await app.govern({ agent_id: 'pay', tool_id: 'stripe/refund', args: {} });
    assert.equal(refused.effect, 'DENY');
    assert.equal(refused.reason_code, 'CREDENTIAL_UNAVAILABLE');
    assert.match(refused.structured_denial!.human_message, /invalid role or secret ID/);
  } finally {
    await app.cliAsync('apply', '--stop');
    app.stop();
  }
});

test('provider = env(…) names the provider where the daemon runs; a Vault token with no policies is never minted; scope_required caps at the ttl', async () => {
  const regional = await s.govern({ agent_id: 'pay', tool_id: 'region/thing', args: {} });
  assert.equal(regional.effect, 'PERMIT');
  assert.equal((regional.credential as { value: string }).value, 'sk_live_SECRET_FROM_VAULT', 'read from Vault, not a stub');
  const minted = vault.tokens.size;
  const wide = await s.govern({ agent_id: 'pay', tool_id: 'wide/thing', args: {} });
  assert.deepEqual([wide.effect, wide.reason_code], ['DENY', 'CREDENTIAL_UNAVAILABLE']);
  assert.match(wide.structured_denial!.human_message, /needs scope/);
  assert.equal(vault.tokens.size, minted, 'Vault was never asked for an unscoped token');
  assert.equal((await s.govern({ agent_id: 'pay', tool_id: 'capped/thing', args: {} })).effect, 'PERMIT');
  vault.mintedTtl = 60;
  try {
    const long = await s.govern({ agent_id: 'pay', tool_id: 'capped/thing', args: {} });
    assert.equal(long.reason_code, 'CREDENTIAL_UNAVAILABLE');
    assert.match(long.structured_denial!.human_message, /living 60s, past its ttl 5s/);
  } finally {
    delete vault.mintedTtl;
  }
  // A name from the environment that matches no provider block is a mistake, never a stub.
  const typo = await s.govern({ agent_id: 'pay', tool_id: 'typo/thing', args: {} });
  assert.deepEqual([typo.effect, typo.reason_code], ['DENY', 'CREDENTIAL_UNAVAILABLE']);
  assert.match(typo.structured_denial!.human_message, /provider "vault-EU" \(from the environment\) names no provider block/);
  const preview = s.cli('credential', 'preview', '--agent', 'pay', '--tool', 'region/thing');
  assert.match(preview.stdout, /provider {2}vault \(vault\)/);
});

test('fail closed: scope_required refuses a credential past max_ttl; an undeclared provider gets a stub; Vault down is CREDENTIAL_UNAVAILABLE', async () => {
  const tight = await s.govern({ agent_id: 'pay', tool_id: 'tight/thing', args: {} });
  assert.equal(tight.effect, 'DENY');
  assert.equal(tight.structured_denial?.code, 'CREDENTIAL_UNAVAILABLE');
  assert.match(tight.structured_denial!.human_message, /past max_ttl 10s/);
  const dev = await s.govern({ agent_id: 'pay', tool_id: 'dev/thing', args: {} });
  assert.equal((dev.credential as { value: string }).value, 'Bearer STUB-dev');
  vault.stop();
  const down = await s.govern({ agent_id: 'pay', tool_id: 'stripe/charge', args: { amount: 1 } });
  assert.equal(down.effect, 'DENY');
  assert.equal(down.structured_denial?.code, 'CREDENTIAL_UNAVAILABLE');
  assert.deepEqual(down.structured_denial?.resolution, { type: 'retry_after', retry_after_seconds: 30 });
  assert.match(down.structured_denial!.human_message, /vault/);
  assert.equal((await records()).at(-1)!.code, 'CREDENTIAL_UNAVAILABLE', 'the refusal is recorded');
  assert.equal(s.cli('audit', 'verify').code, 0, 'and the log with its credential_refs verifies');
  const probe = s.cli('credential', 'probe', 'vault');
  assert.equal(probe.code, 1);
  assert.match(probe.stderr, /pay\/charge: vault provider/);
  // Operators see it in status.
  const status = JSON.parse(s.cli('status', '--format', 'json').stdout) as {
    credentials: { provider: string; issued: number; failed: number; last_error?: string }[];
  };
  const v = status.credentials.find((c) => c.provider === 'vault')!;
  assert.ok(v.issued >= 3 && v.failed >= 1);
  assert.match(String(v.last_error), /vault/);
  assert.match(s.cli('status').stdout, /\n {2}stub {12}1 issued/);
});

test('a call whose credential cannot be had does not run, so it spends no rate limit and no budget', async () => {
  // tight/thing's credential is always refused (past max_ttl); its rate limit is 2 a minute, the budget $5.
  for (let i = 0; i < 4; i++) {
    const r = await s.govern({ agent_id: 'pay', tool_id: 'tight/thing', args: {}, cost_usd: 2 });
    assert.deepEqual([r.effect, r.reason_code], ['DENY', 'CREDENTIAL_UNAVAILABLE'], `call ${i}: neither RATE_EXCEEDED nor BUDGET_EXCEEDED`);
  }
  const status = JSON.parse(s.cli('status', '--format', 'json').stdout) as { budgets?: { agent: string; spent_usd: number }[] };
  const spent = status.budgets?.filter((b) => b.agent === 'pay').reduce((sum, b) => sum + b.spent_usd, 0) ?? 0;
  // Not more than what other tests' charges spent (stripe/charge costs nothing).
  assert.equal(spent, 0, 'nothing spent');
  // A restart rebuilds the state from the log: the given-back use stays given back.
  assert.equal(s.cli('apply', '--stop').code, 0);
  assert.equal(s.cli('apply').code, 0);
  const again = await s.govern({ agent_id: 'pay', tool_id: 'tight/thing', args: {}, cost_usd: 2 });
  assert.equal(again.reason_code, 'CREDENTIAL_UNAVAILABLE');
});

test('an approved call whose credential cannot be had does not run, and keeps its approval for the retry', async () => {
  const gated = () => s.govern({ agent_id: 'pay', tool_id: 'tight/gated', args: { n: 1 } });
  const deferred = await gated();
  assert.equal(deferred.effect, 'DEFER');
  assert.equal(s.cli('approvals', 'approve', deferred.defer_token!).code, 0);
  for (let i = 0; i < 2; i++) {
    const r = await gated();
    assert.deepEqual([r.effect, r.reason_code], ['DENY', 'CREDENTIAL_UNAVAILABLE'], `retry ${i}: the approval is still there`);
  }
  const shown = JSON.parse(s.cli('approvals', 'show', deferred.defer_token!, '--json').stdout) as { status: string; used_at?: string };
  assert.deepEqual([shown.status, shown.used_at], ['approved', undefined]);
});
