/**
 * Checkpoints signed by a KMS that keeps the private key off the host: Vault Transit (ed25519 and
 * ECDSA), AWS KMS (SigV4 checked), Cloud KMS (REST over TLS, a service account's JWT checked) and
 * Azure Key Vault (an Entra token, the raw r‖s signature turned into DER),
 * each against a fake speaking its real wire protocol. `audit verify` checks the signatures
 * against the pinned key, and against the KMS's key alone when an auditor pins only that. Also:
 * fail closed at start, a KMS answering with another key, and moving to a KMS by `apply`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { encodeVerifierKey, originFor } from '@faramesh/audit';
import { FakeAws } from './fake-aws.js';
import { FakeGcp } from './fake-gcp.js';
import { FakeAzure } from './fake-azure.js';
import { FakeVault } from './fake-vault.js';
import { makeStack, until, type Stack } from './daemon-helpers.js';
import { KmsKey } from './kms-key.js';

const work = mkdtempSync(join(tmpdir(), 'fm-kms-'));
const vault = new FakeVault();
const aws = new FakeAws();
const gcp = new FakeGcp(work);
const azure = new FakeAzure(work);
const GCP_KEY = 'projects/test-project/locations/global/keyRings/faramesh/cryptoKeys/dpr/cryptoKeyVersions/1';
const AWS_KEY = 'arn:aws:kms:us-east-1:123456789012:key/0b1c2d3e-aaaa-bbbb-cccc-1234567890ab';
const stacks: Stack[] = [];

let env: Record<string, string>;
before(async () => {
  await Promise.all([vault.start(), aws.start(), gcp.start(), azure.start()]);
  const ca = join(work, 'clouds-ca.pem');
  writeFileSync(ca, readFileSync(gcp.caFile, 'utf8') + readFileSync(azure.caFile, 'utf8'));
  env = {
    VAULT_TOKEN: vault.root,
    AWS_ACCESS_KEY_ID: aws.rootKey,
    AWS_SECRET_ACCESS_KEY: aws.rootSecret,
    AWS_ENDPOINT_URL_KMS: aws.url,
    AWS_ENDPOINT_URL_STS: aws.url,
    AWS_EC2_METADATA_DISABLED: 'true',
    GOOGLE_APPLICATION_CREDENTIALS: gcp.credentialsFile,
    NODE_EXTRA_CA_CERTS: ca,
    AZURE_CLIENT_SECRET: azure.clientSecret,
  };
});
after(() => {
  for (const s of stacks) s.stop();
  vault.stop();
  aws.stop();
  gcp.stop();
  azure.stop();
});

const policy = (provider = '') => `runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
}
${provider}
agent "a" {
  default deny
  rules {
    permit echo/*
  }
}
`;

function stack(provider: string): Stack {
  const s = makeStack(policy(provider), env);
  stacks.push(s);
  return s;
}

/** A stack signing with a fresh Cloud KMS key (named by `tag`) of the fake, within `timeout`. */
function gcpKmsStack(tag: string, timeout: string): { key: KmsKey; s: Stack } {
  const key = new KmsKey('ecdsa-p256');
  const name = GCP_KEY.replace('dpr', tag);
  gcp.kmsKeys.set(name, key);
  const s = stack(`provider "kms-gcp" {
  type     = "gcp-kms"
  key      = "${name}"
  endpoint = "${gcp.url}"
  timeout  = "${timeout}"
}`);
  return { key, s };
}

interface Signing {
  via: string;
  type: string;
  key_id: string;
  last_error?: string;
}
const signing = (s: Stack): Signing =>
  (JSON.parse(s.cli('status', '--format', 'json').stdout) as { daemon: { signing: Signing } }).daemon.signing;

/** The KMS's key as an auditor would pin it, from the KMS rather than from the stack. */
function auditorKey(s: Stack, key: KmsKey): string {
  const file = join(s.dir, 'auditor.pub');
  const v =
    key.type === 'ed25519'
      ? { name: originFor(basename(s.dir)), type: 'ed25519' as const, publicKey: key.raw }
      : { name: originFor(basename(s.dir)), type: 'ecdsa' as const, publicKey: key.spki };
  writeFileSync(file, `${encodeVerifierKey(v)}\n`);
  return file;
}

const walText = (s: Stack) =>
  readdirSync(join(s.dir, 'wal'))
    .filter((f) => f.endsWith('.wal'))
    .map((f) => readFileSync(join(s.dir, 'wal', f), 'latin1'))
    .join('');

async function exercise(s: Stack, key: KmsKey, via: RegExp, type: string): Promise<void> {
  const applied = await s.cliAsync('apply');
  assert.equal(applied.code, 0, applied.stderr + applied.stdout);
  assert.doesNotMatch(applied.stderr, /stack key/, 'a KMS signs: no warning');
  const st = signing(s);
  assert.match(st.via, via);
  assert.equal(st.type, type);
  for (let i = 0; i < 3; i++) assert.equal((await s.govern({ agent_id: 'a', tool_id: 'echo/say', args: { i } })).effect, 'PERMIT');
  const stopped = await s.cliAsync('apply', '--stop');
  assert.equal(stopped.code, 0, stopped.stderr);
  const verified = await s.cliAsync('audit', 'verify');
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  assert.match(verified.stdout, /checkpoints: (\d+)\/\1 signatures valid/);
  const pinnedByAuditor = await s.cliAsync('audit', 'verify', '--key', auditorKey(s, key));
  assert.equal(pinnedByAuditor.code, 0, `the KMS's own key verifies every checkpoint: ${pinnedByAuditor.stdout}`);
  assert.doesNotMatch(walText(s), /PRIVATE KEY/);
}

test('Vault Transit: an ed25519 key signs the note itself, the key version pinned', async () => {
  const key = vault.addTransitKey('dpr-ed', 'ed25519');
  const before = vault.signs.length;
  const s = stack(`provider "kms-vault" {
  type  = "vault-transit"
  addr  = "${vault.addr}"
  token = env("VAULT_TOKEN")
  key   = "dpr-ed"
}`);
  await exercise(s, key, /^vault-transit transit\/dpr-ed v1$/, 'ed25519');
  const signs = vault.signs.slice(before);
  assert.ok(signs.length >= 1);
  assert.ok(signs.every((p) => p.key_version === 1 && p.prehashed === undefined));
});

test('Vault Transit: an ecdsa-p256 key signs a SHA-256 digest (prehashed, ASN.1)', async () => {
  const key = vault.addTransitKey('dpr-ec', 'ecdsa-p256');
  const before = vault.signs.length;
  // The type's own name is a backend too, as the reference guides write it.
  const s = stack(`provider "kms-vault" {
  type  = "kms"
  backend = "vault-transit"
  addr  = "${vault.addr}"
  token = env("VAULT_TOKEN")
  key   = "dpr-ec"
}`);
  await exercise(s, key, /^vault-transit transit\/dpr-ec v1$/, 'ecdsa');
  assert.ok(vault.signs.slice(before).every((p) => p.prehashed === true && p.hash_algorithm === 'sha2-256'));
});

test('AWS KMS: an ECC_NIST_P256 key signs digests over SigV4-signed requests', async () => {
  const key = new KmsKey('ecdsa-p256');
  aws.kmsKeys.set(AWS_KEY, key);
  const s = stack(`provider "kms-aws" {
  type    = "aws-kms"
  region  = "us-east-1"
  key_arn = "${AWS_KEY}"
}`);
  await exercise(s, key, /^aws-kms arn:aws:kms:/, 'ecdsa');
  const probe = await s.cliAsync('credential', 'probe', 'kms-aws');
  assert.equal(probe.code, 0, probe.stderr);
  assert.equal(probe.stdout.trim().split('\n').at(-1), readFileSync(auditorKey(s, key), 'utf8').trim(), 'probe prints the key to pin');
  const probed = JSON.parse((await s.cliAsync('credential', 'probe', 'kms-aws', '--format', 'json')).stdout) as {
    provider: string;
    signer: { ok: boolean; via: string; type: string; verifier_key: string };
  };
  assert.equal(probed.provider, 'kms-aws');
  assert.deepEqual(
    { ...probed.signer, via: probed.signer.via.replace(/ .*/, '') },
    { ok: true, via: 'aws-kms', type: 'ecdsa', verifier_key: readFileSync(auditorKey(s, key), 'utf8').trim() },
  );
  const kms = aws.calls.filter((c) => c.service === 'kms');
  assert.deepEqual([...new Set(kms.map((c) => c.action))].sort(), ['GetPublicKey', 'Sign']);
  assert.ok(
    kms.every((c) => c.signed),
    'every KMS request carried a valid SigV4 signature',
  );
});

test('AWS KMS as the production guide writes it: type kms, backend aws-kms, no region (the key ARN names it)', async () => {
  const arn = AWS_KEY.replace('/0b1c2d3e', '/9f8e7d6c');
  const key = new KmsKey('ecdsa-p256');
  aws.kmsKeys.set(arn, key);
  const s = stack(`provider "audit-kms" {
  type    = "kms"
  backend = "aws-kms"
  key_arn = "${arn}"
}`);
  await exercise(s, key, /^aws-kms arn:aws:kms:us-east-1:/, 'ecdsa');
});

test('Cloud KMS: an EC_SIGN_P384_SHA384 key version over REST and TLS, with CRC32C both ways', async () => {
  const key = new KmsKey('ecdsa-p384');
  gcp.kmsKeys.set(GCP_KEY, key);
  const s = stack(`provider "kms-gcp" {
  type     = "gcp-kms"
  project  = "test-project"
  key      = "${GCP_KEY}"
  endpoint = "${gcp.url}"
}`);
  await exercise(s, key, /^gcp-kms projects\/test-project\//, 'ecdsa');
  const calls = gcp.calls.filter((c) => c.path.includes('cryptoKeys/dpr'));
  assert.ok(calls.some((c) => c.path.endsWith(':asymmetricSign')));
  assert.ok(
    calls.every((c) => c.authorized),
    'every call carried the service account JWT',
  );
});

test('Azure Key Vault: an EC P-256 key version, signed remotely (ES256) with an Entra token; the raw signature becomes DER', async () => {
  const key = new KmsKey('ecdsa-p256');
  azure.keys.set('dpr', [{ version: '0123456789abcdef0123456789abcdef', key }]);
  const s = stack(`provider "kms-azure" {
  type           = "azure-key-vault"
  vault_url      = "${azure.url}"
  key_name       = "dpr"
  tenant_id      = "${azure.tenant}"
  client_id      = "${azure.clientId}"
  client_secret  = env("AZURE_CLIENT_SECRET")
  authority_host = "${azure.url}"
}`);
  await exercise(s, key, /^azure-key-vault https:\/\/127\.0\.0\.1:\d+\/keys\/dpr\/0123456789abcdef0123456789abcdef$/, 'ecdsa');
  assert.ok(
    azure.signs.length > 0 && azure.signs.every((x) => x.alg === 'ES256' && x.kid.endsWith('/keys/dpr/0123456789abcdef0123456789abcdef')),
  );
  // The fake serves a key or a signature only to a token it issued; a first call without one gets the bearer challenge.
  assert.ok(azure.calls.some((c) => c.path.endsWith('/sign') && c.authorized));
});

test('fail closed: an unusable KMS halts the start, naming the provider and why', async () => {
  const rsa = new KmsKey('rsa-2048');
  aws.kmsKeys.set(`${AWS_KEY}-rsa`, rsa);
  const cases: [string, RegExp][] = [
    [`provider "k" {\n  type = "aws-kms"\n  region = "us-east-1"\n  key_arn = "${AWS_KEY}-rsa"\n}`, /"k".*RSA_2048.*ECC_NIST_P256/s],
    [
      `provider "k" {\n  type = "vault-transit"\n  addr = "http://127.0.0.1:9"\n  token = "t"\n  key = "x"\n}`,
      /"k".*vault at http:\/\/127\.0\.0\.1:9/s,
    ],
    [`provider "k" {\n  type = "vault-transit"\n  addr = "${vault.addr}"\n  token = "wrong"\n  key = "dpr-ed"\n}`, /"k".*403/s],
    [
      `provider "k" {\n  type = "pkcs11"\n  module_path = "/usr/lib/softhsm/libsofthsm2.so"\n  key_label = "k"\n}`,
      /not available in this build/,
    ],
  ];
  for (const [provider, why] of cases) {
    const s = stack(provider);
    const r = await s.cliAsync('apply');
    assert.notEqual(r.code, 0, provider);
    assert.match(r.stderr + r.stdout, why);
  }
});

test('a KMS answering with another key than it published: no checkpoint is written, status says why, the log still verifies', async () => {
  const { key, s } = gcpKmsStack('swap', '3s');
  const applied = await s.cliAsync('apply');
  assert.equal(applied.code, 0, applied.stderr);
  key.impostor = new KmsKey('ecdsa-p256');
  assert.equal((await s.govern({ agent_id: 'a', tool_id: 'echo/say', args: {} })).effect, 'PERMIT');
  // Checkpoints come every 10 s while records are unsigned.
  await until('the checkpoint to fail', async () => /does not verify/.test(signing(s).last_error ?? ''), 20_000);
  delete key.impostor;
  assert.equal((await s.cliAsync('apply', '--stop')).code, 0);
  const verified = await s.cliAsync('audit', 'verify');
  assert.equal(verified.code, 0, verified.stdout);
});

test('a KMS that stops answering mid-run: the checkpoint fails within its timeout, status says why, and signing resumes', async () => {
  const { s } = gcpKmsStack('stall', '1s');
  const applied = await s.cliAsync('apply');
  assert.equal(applied.code, 0, applied.stderr);
  gcp.hang = true;
  try {
    assert.equal((await s.govern({ agent_id: 'a', tool_id: 'echo/say', args: {} })).effect, 'PERMIT');
    // Checkpoints come every 10 s while records are unsigned: the one that meets the stall fails, and says so.
    await until('the checkpoint to fail', async () => /did not answer within 1 s/.test(signing(s).last_error ?? ''), 20_000);
  } finally {
    gcp.hang = false;
  }
  // The stalled sign no longer holds the log: the next checkpoint is signed, and the signer is healthy again.
  // Within a tick or two (10 s each); each look is a `status` run, slow on a loaded machine.
  await until('signing to resume', async () => signing(s).last_error === undefined, 40_000);
  const stopped = await s.cliAsync('apply', '--stop');
  assert.equal(stopped.code, 0, stopped.stdout + stopped.stderr);
  const verified = await s.cliAsync('audit', 'verify');
  assert.equal(verified.code, 0, verified.stdout);
});

test('a stop whose last checkpoint the KMS cannot sign says so; verify names those records; the next start signs them', async () => {
  const { s } = gcpKmsStack('stop-stall', '1s');
  const applied = await s.cliAsync('apply');
  assert.equal(applied.code, 0, applied.stderr);
  assert.equal((await s.govern({ agent_id: 'a', tool_id: 'echo/say', args: {} })).effect, 'PERMIT');
  gcp.hang = true;
  try {
    const stopped = await s.cliAsync('apply', '--stop');
    assert.equal(stopped.code, 0, stopped.stdout + stopped.stderr);
  } finally {
    gcp.hang = false;
  }
  const said = readFileSync(join(s.dir, '.faramesh', 'runtime', 'daemon.log'), 'utf8');
  assert.match(said, /stopped with \d+ records no checkpoint signs \(.*did not answer within 1 s.*\); the next start signs them/);
  const verified = await s.cliAsync('audit', 'verify');
  assert.equal(verified.code, 0, verified.stdout);
  assert.match(verified.stdout, /records \(seq \d+–\d+\) after the last signed checkpoint/);
  assert.equal((await s.cliAsync('apply')).code, 0);
  assert.equal((await s.cliAsync('apply', '--stop')).code, 0);
  const signed = await s.cliAsync('audit', 'verify');
  assert.equal(signed.code, 0, signed.stdout);
  assert.doesNotMatch(signed.stdout, /after the last signed checkpoint/);
});

test('moving to a KMS by apply: the local key signs what it covered, key_rotated names both, a broken KMS is refused', async () => {
  const key = vault.addTransitKey('dpr-move', 'ed25519');
  const s = stack('');
  assert.equal((await s.cliAsync('apply')).code, 0);
  assert.equal(signing(s).via, 'local key');
  assert.equal((await s.govern({ agent_id: 'a', tool_id: 'echo/say', args: {} })).effect, 'PERMIT');
  const transit = (k: string) =>
    `provider "kms-vault" {\n  type = "vault-transit"\n  addr = "${vault.addr}"\n  token = env("VAULT_TOKEN")\n  key = "${k}"\n}`;
  writeFileSync(join(s.dir, 'governance.fms'), policy(transit('no-such-key')));
  const refused = await s.cliAsync('apply');
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr + refused.stdout, /no-such-key|404/);
  assert.equal(signing(s).via, 'local key', 'the running policy and its signer stay');
  writeFileSync(join(s.dir, 'governance.fms'), policy(transit('dpr-move')));
  const moved = await s.cliAsync('apply');
  assert.equal(moved.code, 0, moved.stderr);
  assert.equal(signing(s).via, 'vault-transit transit/dpr-move v1');
  assert.equal((await s.govern({ agent_id: 'a', tool_id: 'echo/say', args: {} })).effect, 'PERMIT');
  assert.equal((await s.cliAsync('apply', '--stop')).code, 0);
  const verified = await s.cliAsync('audit', 'verify');
  assert.equal(verified.code, 0, verified.stdout);
  // Both keys are named, with the record each signs from: a move, or a move back, is visible.
  assert.match(verified.stdout, /signing key: \S+\+[0-9a-f]{8} from record 0\n\s+key rotated: \S+\+[0-9a-f]{8} from record \d+/);
  assert.equal(
    readFileSync(join(s.dir, '.faramesh', 'keys', 'audit.pub'), 'utf8')
      .trim()
      .split('\n').length,
    2,
    'both keys pinned',
  );
  assert.match(walText(s), /"type":"key_rotated"[^]*"previous_key":"faramesh\//);
  const onlyKms = await s.cliAsync('audit', 'verify', '--key', auditorKey(s, key));
  assert.notEqual(onlyKms.code, 0, 'the checkpoint the local key signed is not trusted by the KMS key alone');
});
