/**
 * Remote registries end to end: `check` and `apply` fetch imports from an HTTP registry (and over
 * HTTPS by registry name), tokens from `auth login` or FARAMESH_TOKEN reach only their own origin,
 * `registry list|search|info` browse the catalog, and `bundle` carries imports to an offline host.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack } from 'tar-stream';
import { BIN, externalAddress, freePort } from './daemon-helpers.js';
import { FakeRegistry } from './fake-registry.js';
import { FETCH_LIMITS, fetchImports } from '../src/registry/fetch-imports.js';
import { updateLock } from '../src/registry/lock.js';
import { registryHttp } from '../src/registry/http.js';
import { sourceFor } from '../src/registry/sources.js';
import { parseAny, Source } from '@faramesh/fpl';

const REG = 'github.com/faramesh/faramesh-registry';
const PROFILE = 'runtime {\n  mcp_filter_tools = true\n}\n';
const PACK = `import "${REG}/frameworks/langgraph@1.0.0"\npack "refunds" {\n  rules {\n    permit stripe/refund if amount < 500\n  }\n}\n`;

const registries: FakeRegistry[] = [];
after(() => registries.forEach((r) => r.cleanup()));

async function registry(opts: { tls?: boolean; host?: string } = {}): Promise<FakeRegistry> {
  const r = new FakeRegistry();
  registries.push(r);
  r.add('framework', 'langgraph', '1.0.0', PROFILE, 'LangGraph framework profile');
  r.add('policy', 'acme/refunds', '1.0.0', PACK, 'Refund guardrails');
  r.add('policy', 'acme/shell', '2.0.0', 'pack "shell" {\n  rules {\n    deny shell/exec\n  }\n}\n', 'Shell baselines');
  r.add('policy', 'acme/shell', '2.1.0', 'pack "shell" {\n  rules {\n    deny! shell/exec\n  }\n}\n', 'Shell baselines');
  r.add('provider', 'acme/vault', '1.0.0', '{"name":"vault","downloads":{}}', 'Vault secrets');
  return r.start(opts);
}

function policy(reg: FakeRegistry, registryName = REG): string {
  return `import "${registryName}/policies/acme/refunds@1.0.0" as refunds\n${reg.trust(registryName)}agent "bot" {\n  default deny\n  use refunds\n}\n`;
}

function stackDir(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'fm-reg-'));
  writeFileSync(join(dir, 'governance.fms'), text);
  return dir;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI as a child process, without blocking this process (the registry answers from it). */
function cli(args: string[], env: Record<string, string>, input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, NO_COLOR: '1', FARAMESH_REGISTRY_ROOT: '', FARAMESH_REGISTRY_URL: '', FARAMESH_TOKEN: '', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdin.end(input ?? '');
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** A registry URL where nothing listens. */
let closed = '';
before(async () => {
  closed = `http://127.0.0.1:${await freePort()}/`;
});

const home = () => mkdtempSync(join(tmpdir(), 'fm-home-'));
/** Where the import cache keeps an artifact of `registry` (GitHub's, unless named). */
const cached = (dir: string, ...rest: string[]) => join(dir, '.faramesh', 'import-cache', encodeURIComponent(REG), ...rest);

/** Registries served over HTTPS under their host names, with one CA file that trusts them all. */
async function tlsRegistries(n: number): Promise<{ regs: FakeRegistry[]; names: string[]; ca: string }> {
  const regs = await Promise.all(Array.from({ length: n }, () => registry({ tls: true })));
  const ca = join(regs[0]!.base, 'all-ca.pem');
  writeFileSync(ca, regs.map((r) => readFileSync(r.caFile!, 'utf8')).join('\n'));
  return { regs, names: regs.map((r) => new URL(r.url).host), ca };
}

test('check fetches imports (and what they import) from an HTTP registry, verifies them, and caches them', async () => {
  const reg = await registry();
  const dir = stackDir(policy(reg));
  const env = { HOME: home(), FARAMESH_REGISTRY_URL: reg.url };
  const r = await cli(['check', '--dir', dir], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /imports resolved \(1\)/);
  assert.equal(readFileSync(cached(dir, 'policies', 'acme', 'refunds', '1.0.0', 'policy.fpl'), 'utf8'), PACK);
  assert.ok(existsSync(cached(dir, 'frameworks', 'langgraph', '1.0.0', 'profile.fpl.sig')), 'the nested import is cached too');
  const paths = reg.seen.map((s) => s.path);
  assert.ok(paths.includes('/artifacts/policies/acme/refunds/1.0.0/policy.fpl'));
  assert.ok(paths.includes('/artifacts/frameworks/langgraph/1.0.0/profile.fpl'));
  assert.equal(paths.filter((p) => p === '/v1/trust/keys').length, 1, 'the key list is read once');

  // Cached now: the registry is not asked again, even when it is gone.
  reg.stop();
  const seen = reg.seen.length;
  const again = await cli(['check', '--dir', dir], env);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(reg.seen.length, seen);
  // The policy compiled from the fetched pack: the rule is there.
  const ir = JSON.parse((await cli(['compile', '--dir', dir], env)).stdout) as { policy: { agents: { rules: { tool: string }[] }[] } };
  assert.ok(ir.policy.agents[0]!.rules.some((rule) => rule.tool === 'stripe/refund'));
});

test('a registry serving altered bytes, a missing artifact, an oversized one or nothing at all: exit 2, nothing cached', async () => {
  const reg = await registry();
  const env = { HOME: home(), FARAMESH_REGISTRY_URL: reg.url };
  // Altered after signing.
  const file = reg.add('policy', 'acme/altered', '1.0.0', 'pack "a" {\n  rules {\n    deny x\n  }\n}\n');
  writeFileSync(file, 'pack "a" {\n  rules {\n    permit x\n  }\n}\n');
  let dir = stackDir(`import "${REG}/policies/acme/altered@1.0.0" as a\n${reg.trust(REG)}`);
  let r = await cli(['check', '--dir', dir], env);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /signature of policies\/acme\/altered@1\.0\.0 does not verify under the key pinned/);
  assert.equal(existsSync(cached(dir, 'policies', 'acme', 'altered')), false);

  dir = stackDir(`import "${REG}/policies/acme/refunds@9.9.9" as a\n${reg.trust(REG)}`);
  r = await cli(['check', '--dir', dir], env);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /refunds@9\.9\.9 is not in the registry http:\/\/127\.0\.0\.1:\d+\/: .* has no policy\.fpl/);

  reg.add('policy', 'acme/huge', '1.0.0', `# ${'x'.repeat(5 * 1024 * 1024)}\n`);
  dir = stackDir(`import "${REG}/policies/acme/huge@1.0.0" as a\n${reg.trust(REG)}`);
  r = await cli(['check', '--dir', dir], env);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /is larger than 4194304 bytes/);

  dir = stackDir(policy(reg));
  r = await cli(['check', '--dir', dir], { ...env, FARAMESH_REGISTRY_URL: closed });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
});

test('a registry named by host is reached over HTTPS, and its key is pinned under that name', async () => {
  const reg = await registry({ tls: true });
  const name = new URL(reg.url).host; // 127.0.0.1:<port>
  const dir = stackDir(`import "${name}/frameworks/langgraph@1.0.0"\n${reg.trust(name)}`);
  const HOME = home();
  // Without its certificate trusted, TLS fails and nothing resolves.
  const untrusted = await cli(['check', '--dir', dir], { HOME });
  assert.equal(untrusted.code, 2);
  assert.match(untrusted.stderr, /cannot reach https:\/\/127\.0\.0\.1:\d+ \(DEPTH_ZERO_SELF_SIGNED_CERT\)/);
  const r = await cli(['check', '--dir', dir], { HOME, NODE_EXTRA_CA_CERTS: reg.caFile! });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(reg.seen.some((s) => s.path === '/artifacts/frameworks/langgraph/1.0.0/profile.fpl'));
  assert.ok(reg.seen.some((s) => s.path === '/v1/trust/keys'));
});

test('an artifact that does not verify is never read for its imports, and FARAMESH_TOKEN goes to FARAMESH_REGISTRY_URL alone', async () => {
  const { regs, names, ca } = await tlsRegistries(2);
  const [a, evil] = regs as [FakeRegistry, FakeRegistry];
  const [nameA, nameEvil] = names as [string, string];
  // Signed, then altered to import from another host.
  const file = a.add('policy', 'acme/tampered', '1.0.0', 'pack "t" {\n  rules {\n    deny x\n  }\n}\n');
  writeFileSync(file, `import "${nameEvil}/policies/steal/it@1.0.0"\npack "t" {\n  rules {\n    permit x\n  }\n}\n`);
  const env = { HOME: home(), NODE_EXTRA_CA_CERTS: ca, FARAMESH_TOKEN: 'secret-for-a' };
  const r = await cli(['check', '--dir', stackDir(`import "${nameA}/policies/acme/tampered@1.0.0" as t\n${a.trust(nameA)}`)], env);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /does not verify under the key pinned/);
  assert.equal(evil.seen.length, 0, 'the host named inside the unverified artifact was never asked');
  assert.ok(
    a.seen.every((s) => s.authorization === undefined),
    'without FARAMESH_REGISTRY_URL the token is sent nowhere',
  );

  // A verified pack may import from another registry, when the policy pins that one too.
  evil.add('framework', 'other', '1.0.0', PROFILE);
  a.add('policy', 'acme/nested', '1.0.0', `import "${nameEvil}/frameworks/other@1.0.0"\npack "n" {\n  rules {\n    deny y\n  }\n}\n`);
  const both = `import "${nameA}/policies/acme/nested@1.0.0" as n\ntrust {\n  key "${nameA}" ed25519:${a.publicB64}\n  key "${nameEvil}" ed25519:${evil.publicB64}\n}\n`;
  const ok = await cli(['check', '--dir', stackDir(both)], env);
  assert.equal(ok.code, 0, ok.stderr);
  assert.ok(evil.seen.some((s) => s.path === '/artifacts/frameworks/other/1.0.0/profile.fpl'));
  assert.ok([...a.seen, ...evil.seen].every((s) => s.authorization === undefined));
});

test('two registries may publish the same name and version: each keeps its own cache entry', async () => {
  const { regs, names, ca } = await tlsRegistries(2);
  const [a, b] = regs as [FakeRegistry, FakeRegistry];
  a.add('policy', 'acme/x', '1.0.0', 'pack "x" {\n  rules {\n    deny x\n  }\n}\n');
  b.add('policy', 'acme/x', '1.0.0', 'pack "x" {\n  rules {\n    permit x\n  }\n}\n');
  const policy = `import "${names[0]}/policies/acme/x@1.0.0" as a\nimport "${names[1]}/policies/acme/x@1.0.0" as b\ntrust {\n  key "${names[0]}" ed25519:${a.publicB64}\n  key "${names[1]}" ed25519:${b.publicB64}\n}\n`;
  const dir = stackDir(policy);
  const env = { HOME: home(), NODE_EXTRA_CA_CERTS: ca };
  for (let round = 0; round < 2; round++) {
    const r = await cli(['check', '--dir', dir], env);
    assert.equal(r.code, 0, r.stderr);
  }
  assert.deepEqual(readdirSync(join(dir, '.faramesh', 'import-cache')).sort(), names.map(encodeURIComponent).sort());
});

test('hostile answers: a redirect to nowhere, a token no header can carry; each a clear error, never a stack trace', async () => {
  const reg = await registry();
  reg.redirects.set('/artifacts/', 'http://[');
  const env = { HOME: home(), FARAMESH_REGISTRY_URL: reg.url };
  const r = await cli(['check', '--dir', stackDir(policy(reg))], env);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /redirects to an unusable location/);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
  reg.redirects.clear();

  const bad = await cli(['check', '--dir', stackDir(policy(reg))], { ...env, FARAMESH_TOKEN: 'line\nbreak-secret' });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /FARAMESH_TOKEN holds spaces or control characters/);
  assert.doesNotMatch(bad.stderr, /break-secret/);
  const login = await cli(['auth', 'login', '--registry', reg.url], env, 'ctrl\x01secret\n');
  assert.equal(login.code, 64);
  assert.doesNotMatch(login.stderr, /secret/);
});

test('what a registry sends is printed with its control characters escaped', async () => {
  const reg = await registry();
  const file = reg.add('policy', 'acme/esc', '1.0.0', 'pack "e" {\n  rules {\n    deny x\n  }\n}\n');
  const sig = JSON.parse(readFileSync(`${file}.sig`, 'utf8')) as Record<string, string>;
  writeFileSync(`${file}.sig`, JSON.stringify({ ...sig, key_id: 'k\u001b]0;pwned\u0007' }));
  const r = await cli(['check', '--dir', stackDir(`import "${REG}/policies/acme/esc@1.0.0" as e\n${reg.trust(REG)}`)], {
    HOME: home(),
    FARAMESH_REGISTRY_URL: reg.url,
  });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /k\\x1b\]0;pwned\\x07/);
  assert.doesNotMatch(r.stderr, /\u001b/);
});

test("governance.fms.lock pins each import's bytes: another artifact signed by the same key is refused, from a registry, a cache or a bundle", async () => {
  const reg = await registry();
  const HOME = home();
  const env = { HOME, FARAMESH_REGISTRY_URL: reg.url };
  const shell = (v: string) =>
    `import "${REG}/policies/acme/shell@${v}" as shell\n${reg.trust(REG)}agent "a" {\n  default deny\n  use shell\n}\n`;
  const dir = stackDir(shell('2.1.0'));
  const lockPath = join(dir, 'governance.fms.lock');
  // A read-only command resolves (and caches) the imports, but records nothing.
  const explained = await cli(['explain', '--agent', 'a', '--tool', 'shell/exec', '--dir', dir], env);
  assert.equal(explained.code, 0, explained.stderr);
  assert.equal(existsSync(lockPath), false);
  // --locked (CI, deploys): an import the lock does not list is an error, and nothing is recorded.
  const unlocked = await cli(['check', '--locked', '--dir', dir], env);
  assert.equal(unlocked.code, 2);
  assert.match(unlocked.stderr, /shell@2\.1\.0 is not in governance\.fms\.lock, and --locked records nothing/);
  assert.equal(existsSync(lockPath), false);
  assert.equal((await cli(['check', '--dir', dir], env)).code, 0);
  assert.equal((await cli(['check', '--locked', '--dir', dir], env)).code, 0);
  const lock = JSON.parse(readFileSync(lockPath, 'utf8')) as {
    format: string;
    imports: Record<string, { sha256: string; key_id: string }>;
  };
  assert.equal(lock.format, 'faramesh-lock/1');
  const entry = lock.imports[`${REG}/policies/acme/shell@2.1.0`]!;
  assert.match(entry.sha256, /^[0-9a-f]{64}$/);
  assert.equal(entry.key_id, reg.keyId);
  // Nested imports are locked too.
  const nested = stackDir(policy(reg));
  assert.equal((await cli(['check', '--dir', nested], env)).code, 0);
  assert.deepEqual(Object.keys((JSON.parse(readFileSync(join(nested, 'governance.fms.lock'), 'utf8')) as typeof lock).imports), [
    `${REG}/frameworks/langgraph@1.0.0`,
    `${REG}/policies/acme/refunds@1.0.0`,
  ]);

  // The cache now holds 2.0.0's bytes under 2.1.0's name (signed by the same key): fetched again online, refused offline.
  const cachedFile = cached(dir, 'policies', 'acme', 'shell', '2.1.0', 'policy.fpl');
  const olderDir = stackDir(shell('2.0.0'));
  const older = cached(olderDir, 'policies', 'acme', 'shell', '2.0.0', 'policy.fpl');
  assert.equal((await cli(['check', '--dir', olderDir], env)).code, 0);
  writeFileSync(cachedFile, readFileSync(older));
  writeFileSync(`${cachedFile}.sig`, readFileSync(`${older}.sig`));
  const offline = await cli(['check', '--offline', '--dir', dir], env);
  assert.equal(offline.code, 2);
  assert.match(
    offline.stderr,
    /shell@2\.1\.0 from the import cache has sha256 [0-9a-f]{16}…, but governance\.fms\.lock pins [0-9a-f]{16}…/,
  );
  assert.match(offline.stderr, /fetch the pinned bytes again .*do not edit the lock/);
  const online = await cli(['check', '--dir', dir], env);
  assert.equal(online.code, 0, online.stderr);
  assert.equal(createHash('sha256').update(readFileSync(cachedFile)).digest('hex'), entry.sha256);

  // The registry re-publishes 2.1.0 with other bytes (validly signed): refused while the lock pins the old ones.
  rmSync(join(dir, '.faramesh'), { recursive: true });
  reg.add('policy', 'acme/shell', '2.1.0', 'pack "shell" {\n  rules {\n    permit shell/exec\n  }\n}\n');
  const republished = await cli(['check', '--dir', dir], env);
  assert.equal(republished.code, 2);
  assert.match(republished.stderr, /governance\.fms\.lock pins/);
  assert.equal(existsSync(cachedFile), false, 'the other bytes were not cached');

  // A bundle carrying them is refused whole by a host that has the lock.
  const maker = stackDir(shell('2.1.0'));
  const tar = join(maker, 'b.tar');
  assert.equal((await cli(['bundle', '--dir', maker, '--out', tar], env)).code, 0);
  const refused = await cli(['check', '--offline', '--bundle', tar, '--dir', dir], env);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /but governance\.fms\.lock pins .*: not the artifact this policy was locked to/);
  assert.equal(existsSync(cachedFile), false);

  // A malformed lock is an error, not a reason to drop the pins; the audit commands still find the log.
  writeFileSync(lockPath, '{"format": "faramesh-lock/1", "imports": {"x\\u001b[2J": {"sha256": "nope"}}}');
  const malformed = await cli(['check', '--dir', dir], env);
  assert.equal(malformed.code, 1);
  assert.match(malformed.stderr, /governance\.fms\.lock is malformed \(x\\x1b\[2J has no sha256\)/);
  writeFileSync(join(dir, 'governance.fms'), `runtime {\n  wal_dir = "./configured-wal"\n}\n${shell('2.1.0')}`);
  const verify = await cli(['audit', 'verify', '--stack', dir], env);
  assert.match(verify.stderr + verify.stdout, /configured-wal/);

  // A lock that cannot be written is said, not skipped in silence.
  assert.match(updateLock(join(dir, 'no-such-dir'), undefined, new Map([['x', { sha256: 'a'.repeat(64) }]]))!, /ENOENT/);
});

test('YAML and JSON policies fetch their imports too', async () => {
  const reg = await registry();
  const dir = mkdtempSync(join(tmpdir(), 'fm-reg-'));
  writeFileSync(
    join(dir, 'governance.fms.json'),
    JSON.stringify({
      imports: [{ path: `${REG}/policies/acme/shell@2.1.0`, as: 'shell' }],
      trust: { keys: [{ registry: REG, key: `ed25519:${reg.publicB64}` }] },
    }),
  );
  const r = await cli(['check', '--dir', dir], { HOME: home(), FARAMESH_REGISTRY_URL: reg.url });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(cached(dir, 'policies', 'acme', 'shell', '2.1.0', 'policy.fpl')));
});

test('a JSON policy spelling its import key with escapes still obeys governance.fms.lock', async () => {
  const reg = await registry();
  const dir = mkdtempSync(join(tmpdir(), 'fm-reg-'));
  const policy = (key: string) =>
    `{"${key}": ["${REG}/policies/acme/shell@2.0.0"], "trust": {"keys": [{"registry": "${REG}", "key": "ed25519:${reg.publicB64}"}]}}`;
  writeFileSync(join(dir, 'governance.fms.json'), policy('import'));
  const first = await cli(['check', '--dir', dir], { HOME: home(), FARAMESH_REGISTRY_URL: reg.url });
  assert.equal(first.code, 0, first.stderr);
  const lock = readFileSync(join(dir, 'governance.fms.lock'), 'utf8');
  // A writer of the cache puts 2.1.0's bytes (signed by the same key) where 2.0.0 is kept.
  for (const f of ['policy.fpl', 'policy.fpl.sig'])
    writeFileSync(
      cached(dir, 'policies', 'acme', 'shell', '2.0.0', f),
      readFileSync(join(reg.catalog, 'artifacts', 'policies', 'acme', 'shell', '2.1.0', f)),
    );
  writeFileSync(join(dir, 'governance.fms.json'), policy('\\u0069mport'));
  const r = await cli(['check', '--offline', '--dir', dir], { HOME: home() });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /governance\.fms\.lock pins/);
  assert.equal(readFileSync(join(dir, 'governance.fms.lock'), 'utf8'), lock, 'the lock is not rewritten');
});

test('fetching is bounded: eight requests at a time, and at most 256 artifacts', async () => {
  let inFlight = 0;
  let most = 0;
  const http = {
    get: async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 2));
      inFlight--;
      return { missing: true as const };
    },
  };
  const lines = Array.from({ length: 300 }, (_, i) => `import "${REG}/policies/acme/p${i}@1.0.0" as p${i}`).join('\n');
  const dir = stackDir(lines);
  const fetched = await fetchImports(parseAny(new Source('governance.fms', lines)), dir, {}, http);
  assert.equal(most, FETCH_LIMITS.concurrent);
  const refused = [...fetched!.values()].filter((f) => 'error' in f && f.error.code === 'import-too-large');
  assert.equal(refused.length, 300 - FETCH_LIMITS.artifacts);
});

test('the GitHub layout: raw catalog files at a branch, tag or commit (FARAMESH_REGISTRY_GITHUB_REF)', async () => {
  const reg = await registry();
  assert.deepEqual(sourceFor(REG, {}), {
    kind: 'files',
    base: 'https://raw.githubusercontent.com/faramesh/faramesh-registry/main/catalog/',
    label: `${REG}@main`,
  });
  assert.throws(() => sourceFor(REG, { FARAMESH_REGISTRY_GITHUB_REF: '../x' }), /not a branch, tag or commit/);
  assert.equal(sourceFor('registry.internal/team', {}).kind, 'api');
  assert.throws(() => sourceFor(REG, { FARAMESH_REGISTRY_URL: 'https://user:pw@registry.internal' }), /must not hold credentials/);

  // Served from the fake registry's raw files: every URL the GitHub source asks for, rewritten to it.
  const raw = 'https://raw.githubusercontent.com/faramesh/faramesh-registry/v2.0.0/catalog/';
  const asked: string[] = [];
  const local = registryHttp({}, () => new Map());
  const http = {
    get: (url: string, what: string) => {
      asked.push(url);
      return local.get(url.replace(raw, reg.url), what);
    },
  };
  const dir = stackDir(policy(reg));
  const file = parseAny(new Source('governance.fms', readFileSync(join(dir, 'governance.fms'), 'utf8')));
  const fetched = await fetchImports(file, dir, { FARAMESH_REGISTRY_GITHUB_REF: 'v2.0.0' }, http);
  assert.deepEqual(
    asked.sort(),
    [
      `${raw}artifacts/frameworks/langgraph/1.0.0/profile.fpl`,
      `${raw}artifacts/frameworks/langgraph/1.0.0/profile.fpl.sig`,
      `${raw}artifacts/policies/acme/refunds/1.0.0/policy.fpl`,
      `${raw}artifacts/policies/acme/refunds/1.0.0/policy.fpl.sig`,
      `${raw}trust/keys.json`,
    ].sort(),
  );
  assert.equal(fetched?.size, 2);
  for (const f of fetched!.values()) assert.ok('artifact' in f && f.registryKeys.keys?.has(reg.keyId));
});

test('auth: login checks and stores a token (0600), whoami reports it by digest, the registry gets it, logout forgets it', async () => {
  const reg = await registry();
  reg.token = 'reg-token-123';
  const HOME = home();
  const env = { HOME, FARAMESH_REGISTRY_URL: reg.url };
  const dir = stackDir(policy(reg));

  const denied = await cli(['check', '--dir', dir], env);
  assert.equal(denied.code, 2);
  assert.match(denied.stderr, /http:\/\/127\.0\.0\.1:\d+ answered HTTP 401/);
  assert.match(denied.stderr, /faramesh auth login --registry http:\/\/127\.0\.0\.1:\d+/);

  const wrong = await cli(['auth', 'login', '--registry', reg.url], env, 'not-the-token\n');
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /refused the token.*not stored/);
  assert.equal(existsSync(join(HOME, '.faramesh', 'registry-auth.json')), false);

  const login = await cli(['auth', 'login', '--registry', reg.url], env, 'reg-token-123\n');
  assert.equal(login.code, 0, login.stderr);
  assert.doesNotMatch(login.stdout + login.stderr, /reg-token-123/);
  const file = join(HOME, '.faramesh', 'registry-auth.json');
  assert.equal(statSync(file).mode & 0o777, 0o600);

  const before = reg.seen.length;
  const ok = await cli(['check', '--dir', dir], env);
  assert.equal(ok.code, 0, ok.stderr);
  const fetched = reg.seen.slice(before).filter((s) => s.path.startsWith('/artifacts/'));
  assert.equal(fetched.length, 4);
  assert.ok(fetched.every((s) => s.authorization === 'Bearer reg-token-123'));

  const who = await cli(['auth', 'whoami', '--format', 'json'], env);
  assert.equal(who.code, 0, who.stderr);
  assert.doesNotMatch(who.stdout, /reg-token-123/);
  const logins = (JSON.parse(who.stdout) as { logins: { origin: string; token: string; status: string }[] }).logins;
  assert.deepEqual(
    logins.map((l) => [l.origin, l.status]),
    [[new URL(reg.url).origin, 'accepted']],
  );
  assert.match(logins[0]!.token, /^sha256:[0-9a-f]{12}$/);

  // A login file others can read is refused, not used.
  const { chmodSync } = await import('node:fs');
  chmodSync(file, 0o644);
  const open = await cli(['auth', 'whoami'], env);
  assert.equal(open.code, 1);
  assert.match(open.stderr, /chmod 600/);
  chmodSync(file, 0o600);

  const out = await cli(['auth', 'logout', '--registry', reg.url], env);
  assert.equal(out.code, 0);
  assert.equal((await cli(['auth', 'whoami'], env)).code, 1);

  // A login file with one unusable token (from an older version, or edited): the other registries
  // still work, whoami says so, and a new login replaces it.
  writeFileSync(
    file,
    JSON.stringify({
      format: 'faramesh-registry-auth/1',
      logins: { 'https://other.example': { registry: 'other.example', token: 'bad\u0000token' } },
    }),
    { mode: 0o600 },
  );
  reg.token = undefined;
  assert.equal((await cli(['check', '--dir', stackDir(policy(reg))], env)).code, 0);
  const unusable = JSON.parse((await cli(['auth', 'whoami', '--format', 'json'], env)).stdout) as { logins: { status: string }[] };
  assert.deepEqual(
    unusable.logins.map((l) => l.status),
    ['unusable'],
  );
  reg.token = 'reg-token-123';

  // FARAMESH_TOKEN serves as well, for CI.
  const viaEnv = await cli(['check', '--dir', stackDir(policy(reg))], { ...env, FARAMESH_TOKEN: 'reg-token-123' });
  assert.equal(viaEnv.code, 0, viaEnv.stderr);
});

test('a token never follows a redirect to another origin, and never goes over plain http to another machine', async () => {
  const other = await registry();
  const reg = await registry();
  reg.redirects.set('/artifacts/', `${other.url}artifacts/`);
  const env = { HOME: home(), FARAMESH_REGISTRY_URL: reg.url, FARAMESH_TOKEN: 'secret-for-reg' };
  // `other` signs with its own key: pin that one, since the artifacts come from it.
  const r = await cli(['check', '--dir', stackDir(policy(other))], env);
  // The key list comes from reg, whose key of that id differs: refused, but only after the redirect was followed.
  assert.equal(r.code, 2);
  assert.match(r.stderr, /with a different public key than the registry's key list gives it/);
  assert.ok(
    other.seen.some((s) => s.path.startsWith('/artifacts/')),
    'the redirect was followed',
  );
  assert.ok(
    other.seen.every((s) => s.authorization === undefined),
    'the token stayed with its origin',
  );
  assert.ok(reg.seen.some((s) => s.authorization === 'Bearer secret-for-reg'));

  const remote = await registry({ host: externalAddress() });
  remote.token = 'secret-for-remote';
  const plain = await cli(['check', '--dir', stackDir(policy(remote))], {
    ...env,
    FARAMESH_REGISTRY_URL: remote.url,
    FARAMESH_TOKEN: 'secret-for-remote',
  });
  assert.equal(plain.code, 2);
  assert.match(plain.stderr, /never sent over plain http/);
  assert.ok(remote.seen.every((s) => s.authorization === undefined));
});

test('registry list, search and info browse the catalog (HTTP registry and local clone alike)', async () => {
  const reg = await registry();
  const envs: Record<string, string>[] = [
    { HOME: home(), FARAMESH_REGISTRY_URL: reg.url },
    { HOME: home(), FARAMESH_REGISTRY_ROOT: reg.base },
  ];
  for (const env of envs) {
    const list = await cli(['registry', 'list'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^KIND\s+NAME\s+LATEST\s+TIER\s+DESCRIPTION$/m);
    assert.match(list.stdout, /^framework\s+langgraph\s+1\.0\.0\s+official\s+LangGraph framework profile$/m);
    assert.match(list.stdout, /^policy\s+acme\/shell\s+2\.1\.0/m);
    assert.match(list.stdout, /^provider\s+acme\/vault/m);

    const policies = JSON.parse((await cli(['registry', 'list', '--kind', 'policy', '--format', 'json'], env)).stdout) as {
      entries: { kind: string; name: string; latest_version: string }[];
    };
    assert.deepEqual(
      policies.entries.map((e) => e.name),
      ['acme/refunds', 'acme/shell'],
    );

    const search = await cli(['registry', 'search', 'GUARDRAILS'], env);
    assert.equal(search.code, 0);
    assert.match(search.stdout, /acme\/refunds/);
    assert.doesNotMatch(search.stdout, /acme\/shell/);
    const none = await cli(['registry', 'search', 'nothing-like-this'], env);
    assert.equal(none.code, 0);
    assert.match(none.stderr, /matches 'nothing-like-this'/);

    // info, from a stack that pins the key, and from one that does not.
    const pinned = stackDir(policy(reg));
    const info = await cli(['registry', 'info', 'policies/acme/refunds', '--dir', pinned], env);
    assert.equal(info.code, 0, info.stderr);
    assert.ok(info.stdout.startsWith('policies/acme/refunds@1.0.0  ('), info.stdout);
    assert.match(info.stdout, /artifact\s+policy\.fpl, \d+ bytes, sha256 [0-9a-f]{64}/);
    assert.match(info.stdout, new RegExp(`signed by\\s+${reg.keyId}`));
    assert.match(info.stdout, /pinned here\s+yes: verifies under the key pinned/);
    assert.match(info.stdout, /import "github\.com\/faramesh\/faramesh-registry\/policies\/acme\/refunds@1\.0\.0"/);
    const unpinned = JSON.parse(
      (
        await cli(
          ['registry', 'info', 'frameworks/langgraph@1.0.0', '--dir', stackDir('agent "a" {\n  default deny\n}\n'), '--format', 'json'],
          env,
        )
      ).stdout,
    ) as {
      pinned: { verified: boolean; detail: string };
      listed: boolean;
    };
    assert.equal(unpinned.listed, true);
    assert.equal(unpinned.pinned.verified, false);
    assert.match(unpinned.pinned.detail, /no key is pinned/);

    // Every version is listed, by the catalog file or the registry's versions API.
    const shell = JSON.parse((await cli(['registry', 'info', 'policies/acme/shell@2.0.0', '--format', 'json'], env)).stdout) as {
      versions: string[];
      latest_version: string;
      listed: boolean;
    };
    assert.deepEqual([shell.versions, shell.latest_version, shell.listed], [['2.0.0', '2.1.0'], '2.1.0', true]);

    if (env.FARAMESH_REGISTRY_URL) {
      // The registry given as a URL: read from it, imported under the default name.
      const byUrl = await cli(['registry', 'info', 'policies/acme/refunds', '--registry', reg.url], { HOME: env.HOME! });
      assert.equal(byUrl.code, 0, byUrl.stderr);
      assert.match(byUrl.stdout, /import "github\.com\/faramesh\/faramesh-registry\/policies\/acme\/refunds@1\.0\.0"/);
    }

    const missing = await cli(['registry', 'info', 'policies/acme/refunds@3.0.0'], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stdout, /in catalog\s+no/);
    const bad = await cli(['registry', 'info', 'stripe'], env);
    assert.equal(bad.code, 64);
  }
});

test('bundle packs every import; an offline host installs it only when its own pinned key verifies each one', async () => {
  const reg = await registry();
  const HOME = home();
  const online = stackDir(policy(reg));
  const file = join(online, 'imports.tar');
  const made = await cli(['bundle', '--dir', online, '--out', file], { HOME, FARAMESH_REGISTRY_URL: reg.url });
  assert.equal(made.code, 0, made.stderr);
  assert.match(made.stdout, /wrote .*imports\.tar \(2 imports, \d+ bytes\)/);
  reg.stop();

  // The offline host: same policy, empty cache, no registry.
  const offline = stackDir(policy(reg));
  const env = { HOME, FARAMESH_REGISTRY_URL: closed };
  assert.equal((await cli(['check', '--offline', '--dir', offline], env)).code, 2);
  const checked = await cli(['check', '--offline', '--bundle', file, '--dir', offline], env);
  assert.equal(checked.code, 0, checked.stderr);
  assert.match(checked.stderr, /2 imports verified and installed/);
  assert.equal(readFileSync(cached(offline, 'policies', 'acme', 'refunds', '1.0.0', 'policy.fpl'), 'utf8'), PACK);

  // A host that pins another key refuses the whole bundle and installs nothing.
  const stranger = new FakeRegistry();
  registries.push(stranger);
  const other = stackDir(policy(stranger));
  const refused = await cli(['check', '--offline', '--bundle', file, '--dir', other], env);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /is not the key pinned/);
  assert.match(refused.stderr, /nothing was installed/);
  assert.equal(existsSync(join(other, '.faramesh', 'import-cache')), false);

  // apply --offline --bundle starts the daemon on the installed imports.
  const applyDir = stackDir(`runtime {\n  wal_dir = "./wal"\n  socket = "./.faramesh/runtime/agent.sock"\n}\n${policy(reg)}`);
  const applied = await cli(['apply', '--offline', '--bundle', file, '--dir', applyDir], { ...env, HOME: applyDir });
  try {
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout + applied.stderr, /READY|started|pid/i);
  } finally {
    await cli(['apply', '--stop', '--dir', applyDir], { ...env, HOME: applyDir });
  }
});

test('a forged or hostile bundle is refused and changes nothing', async () => {
  const reg = await registry();
  const HOME = home();
  const online = stackDir(policy(reg));
  const good = join(online, 'good.tar');
  assert.equal((await cli(['bundle', '--dir', online, '--out', good], { HOME, FARAMESH_REGISTRY_URL: reg.url })).code, 0);
  const env = { HOME, FARAMESH_REGISTRY_URL: closed };
  const entries = await readEntries(good);

  // The pack's bytes changed and its digest updated to match: the signature still catches it.
  const altered = new Map(entries);
  const path = `artifacts/${encodeURIComponent(REG)}/policies/acme/refunds/1.0.0/policy.fpl`;
  const forged = Buffer.from(PACK.replace('permit stripe/refund if amount < 500', 'permit stripe/*'));
  altered.set(path, forged);
  const manifest = JSON.parse(entries.get('faramesh-bundle.json')!.toString()) as {
    imports: { file: string; sha256: string; import: string }[];
  };
  manifest.imports.find((i) => i.import.includes('refunds'))!.sha256 = createHash('sha256').update(forged).digest('hex');
  altered.set('faramesh-bundle.json', Buffer.from(JSON.stringify(manifest)));
  // And an entry that tries to climb out of the cache: never written anywhere.
  altered.set('../../escaped.txt', Buffer.from('x'));
  const dir = stackDir(policy(reg));
  const forgedFile = join(dir, 'forged.tar');
  writeFileSync(forgedFile, await writeEntries(altered));
  const r = await cli(['check', '--offline', '--bundle', forgedFile, '--dir', dir], env);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /does not verify/);
  assert.equal(existsSync(join(dir, '.faramesh', 'import-cache')), false);
  assert.equal(existsSync(join(dir, '..', 'escaped.txt')), false);

  // A bundle that verifies, carrying hostile names beside its artifacts: installed, and only its artifacts written.
  const hostile = new Map(entries);
  for (const name of ['../../escaped.txt', '/tmp/absolute-escape.txt', 'artifacts/../../../up.txt']) hostile.set(name, Buffer.from('x'));
  const hostileFile = join(dir, 'hostile.tar');
  writeFileSync(hostileFile, await writeEntries(hostile));
  const installed = await cli(['check', '--offline', '--bundle', hostileFile, '--dir', dir], env);
  assert.equal(installed.code, 0, installed.stderr);
  assert.equal(existsSync(join(dir, '..', 'escaped.txt')), false);
  assert.equal(existsSync('/tmp/absolute-escape.txt'), false);
  assert.deepEqual(readdirSync(join(dir, '.faramesh', 'import-cache')), [encodeURIComponent(REG)]);
  rmSync(join(dir, '.faramesh'), { recursive: true });

  // Cut short, or with an entry too large: refused with a message.
  const whole = readFileSync(good);
  writeFileSync(join(dir, 'cut.tar'), whole.subarray(0, 700));
  const cut = await cli(['check', '--bundle', join(dir, 'cut.tar'), '--dir', dir], env);
  assert.equal(cut.code, 2);
  assert.match(cut.stderr, /is not a readable tar/);
  const huge = join(dir, 'huge.tar');
  writeFileSync(huge, await writeEntries(new Map([['faramesh-bundle.json', Buffer.alloc(5 * 1024 * 1024)]])));
  const big = await cli(['check', '--bundle', huge, '--dir', dir], env);
  assert.equal(big.code, 2);
  assert.match(big.stderr, /larger than 4194304 bytes/);
  for (const f of [cut, big]) assert.doesNotMatch(f.stderr, /at .*\.js:\d+/);

  // Not a tar, not a bundle, not there.
  writeFileSync(join(dir, 'junk.tar'), 'this is not a tar file at all'.repeat(40));
  const junk = await cli(['check', '--bundle', join(dir, 'junk.tar'), '--dir', dir], env);
  assert.equal(junk.code, 2);
  const plain = join(dir, 'plain.tar');
  writeFileSync(plain, await writeEntries(new Map([['hello.txt', Buffer.from('hi')]])));
  const notBundle = await cli(['check', '--bundle', plain, '--dir', dir], env);
  assert.equal(notBundle.code, 2);
  assert.match(notBundle.stderr, /not a faramesh bundle/);
  const absent = await cli(['check', '--bundle', join(dir, 'absent.tar'), '--dir', dir], env);
  assert.equal(absent.code, 2);
  assert.match(absent.stderr, /no bundle at/);
  assert.deepEqual(readdirSync(dir).sort(), [
    'cut.tar',
    'forged.tar',
    'governance.fms',
    'governance.fms.lock',
    'hostile.tar',
    'huge.tar',
    'junk.tar',
    'plain.tar',
  ]);
});

async function readEntries(file: string): Promise<Map<string, Buffer>> {
  const { extract } = await import('tar-stream');
  const ex = extract();
  const out = new Map<string, Buffer>();
  ex.on('entry', (h, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c) => chunks.push(c as Buffer));
    stream.on('end', () => {
      out.set(h.name, Buffer.concat(chunks));
      next();
    });
  });
  const done = new Promise((r) => ex.on('finish', () => r(undefined)));
  ex.end(readFileSync(file));
  await done;
  return out;
}

async function writeEntries(entries: Map<string, Buffer>): Promise<Buffer> {
  const p = pack();
  for (const [name, data] of entries) p.entry({ name }, data);
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
