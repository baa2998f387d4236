import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname } from 'node:path';
import { join } from 'node:path';
import { cacheDir, MAX_IMPORT_DEPTH, parseImportRef, resolveImports, type ResolveOptions } from '../src/imports/index.js';
import { parse } from '../src/syntax/parser.js';
import { Source } from '../src/syntax/source.js';
import { makeKey, REGISTRY, signatureJson, TestRegistry } from './support/registry.js';

const registries: TestRegistry[] = [];
after(() => registries.forEach((r) => r.cleanup()));

function registry(): TestRegistry {
  const r = new TestRegistry();
  registries.push(r);
  return r;
}

const STRIPE = `${REGISTRY}/policies/faramesh/stripe@1.0.0`;
const STRIPE_FPL = 'pack "stripe" {\n  rules {\n    permit stripe/refund if amount < $500\n    deny stripe/payouts\n  }\n}\n';

function check(reg: TestRegistry, policy: string, options: Partial<ResolveOptions> = {}) {
  const { file, diagnostics } = parse(new Source('governance.fms', policy));
  const resolved = resolveImports(file, diagnostics, { stackDir: reg.stackDir, registryRoot: reg.root, ...options });
  const codes = diagnostics.items.map((d) => d.code);
  return { file, resolved, diagnostics, codes, first: diagnostics.items[0] };
}

function cachedPath(reg: TestRegistry, raw: string, fileName: string): string {
  return join(cacheDir(reg.stackDir, parseImportRef(raw).ref!), fileName);
}

test('happy path: verifies, parses and caches a signed policy pack', () => {
  const reg = registry();
  const artifact = reg.add('policies/faramesh/stripe/1.0.0', STRIPE_FPL);
  const { resolved, codes } = check(reg, `import "${STRIPE}"\n${reg.trust()}`);
  assert.deepEqual(codes, []);
  assert.equal(resolved.length, 1);
  const imp = resolved[0]!;
  assert.equal(imp.ref.name, 'stripe');
  assert.equal(imp.alias, undefined);
  assert.equal(imp.keyId, reg.key.id);
  assert.equal(imp.sha256, createHash('sha256').update(STRIPE_FPL).digest('hex'));
  assert.equal(imp.file?.source.name, STRIPE);
  assert.equal(imp.file?.items[0]?.kind, 'Block');
  assert.deepEqual(imp.imports, []);
  const cached = cachedPath(reg, STRIPE, 'policy.fpl');
  assert.equal(
    cached,
    join(
      reg.stackDir,
      '.faramesh',
      'import-cache',
      'github.com%2Ffaramesh%2Ffaramesh-registry',
      'policies',
      'faramesh',
      'stripe',
      '1.0.0',
      'policy.fpl',
    ),
  );
  assert.equal(readFileSync(cached, 'utf8'), STRIPE_FPL);
  assert.deepEqual(readFileSync(`${cached}.sig`), readFileSync(`${artifact}.sig`));
});

test('`as` gives the import its alias', () => {
  const reg = registry();
  reg.add('policies/faramesh/stripe/1.0.0', STRIPE_FPL);
  const { resolved, codes } = check(reg, `import "${STRIPE}" as stripe_rules\n${reg.trust()}`);
  assert.deepEqual(codes, []);
  assert.equal(resolved[0]?.alias, 'stripe_rules');
  assert.equal(resolved[0]?.node.alias?.value, 'stripe_rules');
});

test('a framework without namespace resolves profile.fpl, or policy.fpl', () => {
  const reg = registry();
  reg.add('frameworks/langgraph/1.0.0', 'runtime {\n  framework = "langgraph"\n}\n');
  reg.add('frameworks/crewai/1.0.0', 'runtime {\n  framework = "crewai"\n}\n', { fileName: 'policy.fpl' });
  const policy = `import "${REGISTRY}/frameworks/langgraph@1.0.0"\nimport "${REGISTRY}/frameworks/crewai@1.0.0"\n${reg.trust()}`;
  const { resolved, codes } = check(reg, policy);
  assert.deepEqual(codes, []);
  assert.deepEqual(
    resolved.map((r) => [r.ref.name, r.ref.ns]),
    [
      ['langgraph', undefined],
      ['crewai', undefined],
    ],
  );
  assert.ok(
    existsSync(
      join(
        reg.stackDir,
        '.faramesh',
        'import-cache',
        'github.com%2Ffaramesh%2Ffaramesh-registry',
        'frameworks',
        'langgraph',
        '1.0.0',
        'profile.fpl.sig',
      ),
    ),
  );
});

test('no pinned key for the registry: import-no-trust-key, at the import path', () => {
  const reg = registry();
  reg.add('policies/faramesh/stripe/1.0.0', STRIPE_FPL);
  const policy = `import "${STRIPE}"\n${reg.trust(reg.key, 'github.com/someone-else/registry')}`;
  const { resolved, codes, first } = check(reg, policy);
  assert.deepEqual(codes, ['import-no-trust-key']);
  assert.deepEqual(resolved, []);
  assert.equal(first?.source.name, 'governance.fms');
  assert.equal(policy.slice(first!.span.start, first!.span.end), `"${STRIPE}"`);
  assert.match(first!.hint!, /trust \{ key "github\.com\/faramesh\/faramesh-registry" ed25519:/);
  assert.ok(!existsSync(join(reg.stackDir, '.faramesh')), 'nothing is cached before verification');
});

test('a different pinned key: import-untrusted', () => {
  const reg = registry();
  reg.add('policies/faramesh/stripe/1.0.0', STRIPE_FPL);
  const { codes, first } = check(reg, `import "${STRIPE}"\n${reg.trust(makeKey('other'))}`);
  assert.deepEqual(codes, ['import-untrusted']);
  assert.match(first!.message, /not the key pinned/);
});

test('the key in the .sig and keys.json is never trusted by itself', () => {
  // An attacker who controls the mirror signs with their own key and lists it; the pin still decides.
  const reg = registry();
  const attacker = makeKey('faramesh-registry-2026');
  reg.writeKeys([attacker]);
  reg.add('policies/faramesh/stripe/1.0.0', STRIPE_FPL, { signer: attacker });
  assert.deepEqual(check(reg, `import "${STRIPE}"\n${reg.trust()}`).codes, ['import-untrusted']);
});

test('tampered artifact bytes: import-bad-signature, nothing cached', () => {
  const reg = registry();
  const file = reg.add('policies/faramesh/stripe/1.0.0', STRIPE_FPL);
  writeFileSync(file, STRIPE_FPL.replace('$500', '$50000'));
  const { codes, resolved } = check(reg, `import "${STRIPE}"\n${reg.trust()}`);
  assert.deepEqual(codes, ['import-bad-signature']);
  assert.deepEqual(resolved, []);
  assert.ok(!existsSync(cachedPath(reg, STRIPE, 'policy.fpl')));
});

test('a .sig without public_key_b64 is verified against the pinned key', () => {
  const reg = registry();
  const file = reg.add('policies/faramesh/stripe/1.0.0', STRIPE_FPL);
  writeFileSync(`${file}.sig`, signatureJson(reg.key, Buffer.from(STRIPE_FPL), { public_key_b64: undefined }));
  assert.deepEqual(check(reg, `import "${STRIPE}"\n${reg.trust()}`).codes, []);
  writeFileSync(`${file}.sig`, signatureJson(makeKey(reg.key.id), Buffer.from(STRIPE_FPL), { public_key_b64: undefined }));
  assert.deepEqual(check(reg, `import "${STRIPE}"\n${reg.trust()}`).codes, ['import-bad-signature']);
});

test('missing .sig: import-unsigned', () => {
  const reg = registry();
  reg.add('policies/faramesh/stripe/1.0.0', STRIPE_FPL, { signer: false });
  const { codes, first } = check(reg, `import "${STRIPE}"\n${reg.trust()}`);
  assert.deepEqual(codes, ['import-unsigned']);
  assert.match(first!.message, /policy\.fpl\.sig is missing/);
});

test('malformed .sig: import-malformed-signature', () => {
  const reg = registry();
  const file = reg.add('policies/faramesh/stripe/1.0.0', STRIPE_FPL, { sigText: '{"key_id": ' });
  assert.deepEqual(check(reg, `import "${STRIPE}"\n${reg.trust()}`).codes, ['import-malformed-signature']);
  writeFileSync(
    `${file}.sig`,
    JSON.stringify({ key_id: reg.key.id, algorithm: 'ed25519', value_b64: 'AAAA', public_key_b64: reg.key.publicB64 }),
  );
  const { codes, first } = check(reg, `import "${STRIPE}"\n${reg.trust()}`);
  assert.deepEqual(codes, ['import-malformed-signature']);
  assert.match(first!.message, /value_b64/);
});

test('unsupported signature algorithm: import-unsupported-algorithm', () => {
  const reg = registry();
  const sig = JSON.stringify({ key_id: reg.key.id, algorithm: 'rsa-pss', value_b64: 'AAAA' });
  reg.add('policies/faramesh/stripe/1.0.0', STRIPE_FPL, { sigText: sig });
  assert.deepEqual(check(reg, `import "${STRIPE}"\n${reg.trust()}`).codes, ['import-unsupported-algorithm']);
});

test('key_id not listed in keys.json: import-unknown-key', () => {
  const reg = registry();
  reg.writeKeys([makeKey('some-other-key')]);
  reg.add('policies/faramesh/stripe/1.0.0', STRIPE_FPL);
  const { codes, first } = check(reg, `import "${STRIPE}"\n${reg.trust()}`);
  assert.deepEqual(codes, ['import-unknown-key']);
  assert.match(first!.message, /faramesh-registry-2026/);
});

test('unpinned, @latest and range imports are reported at the import path', () => {
  const reg = registry();
  reg.add('policies/faramesh/stripe/1.0.0', STRIPE_FPL);
  const policy = `import "${REGISTRY}/policies/faramesh/stripe"\nimport "${REGISTRY}/policies/faramesh/shell@latest"\nimport "${REGISTRY}/policies/faramesh/mcp@^1.0.0"\n${reg.trust()}`;
  const { codes, diagnostics, resolved } = check(reg, policy);
  assert.deepEqual(codes, ['import-unpinned', 'import-unpinned', 'import-unpinned']);
  assert.deepEqual(
    diagnostics.items.map((d) => d.source.position(d.span.start)),
    [1, 2, 3].map((line) => ({
      offset:
        policy
          .split('\n')
          .slice(0, line - 1)
          .join('\n').length +
        (line > 1 ? 1 : 0) +
        7,
      line,
      column: 8,
    })),
  );
  assert.deepEqual(resolved, []);
});

test('a version missing from the registry: import-not-found', () => {
  const reg = registry();
  reg.add('policies/faramesh/stripe/1.0.0', STRIPE_FPL);
  const { codes, first } = check(reg, `import "${REGISTRY}/policies/faramesh/stripe@1.0.1"\n${reg.trust()}`);
  assert.deepEqual(codes, ['import-not-found']);
  assert.match(first!.message, /stripe@1\.0\.1 is not in the registry/);
});

test('a registry root that is not a catalog: import-no-registry', () => {
  const reg = registry();
  const { codes, first } = check(reg, `import "${STRIPE}"\n${reg.trust()}`, { registryRoot: join(reg.base, 'nowhere') });
  assert.deepEqual(codes, ['import-no-registry']);
  assert.match(first!.hint!, /FARAMESH_REGISTRY_ROOT/);
});

test('no registry root, nothing fetched and no cache: import-not-found, saying how to fetch it', () => {
  const reg = registry();
  const { codes, first } = check(reg, `import "${STRIPE}"\n${reg.trust()}`, { registryRoot: undefined });
  assert.deepEqual(codes, ['import-not-found']);
  assert.match(first!.message, /stripe@1\.0\.0 is not in the import cache$/);
  assert.match(first!.hint!, /run faramesh check to fetch it/);
  const offline = check(reg, `import "${STRIPE}"\n${reg.trust()}`, { registryRoot: undefined, offline: true }).first!;
  assert.match(offline.hint!, /--offline --bundle FILE/);
});

test('offline, and without a registry root, the verified cache is used', () => {
  const reg = registry();
  reg.add('policies/faramesh/stripe/1.0.0', STRIPE_FPL);
  const policy = `import "${STRIPE}" as stripe_rules\n${reg.trust()}`;
  assert.deepEqual(check(reg, policy).codes, []);
  // The registry disappears: offline mode must not look at it, and no-root mode falls back to the cache.
  for (const options of [{ offline: true, registryRoot: join(reg.base, 'nowhere') }, { registryRoot: undefined }]) {
    const { codes, resolved } = check(reg, policy, options);
    assert.deepEqual(codes, []);
    assert.equal(resolved[0]?.keyId, reg.key.id);
    assert.equal(resolved[0]?.file?.source.text, STRIPE_FPL);
  }
});

test('offline: a cache miss is import-not-found, and a tampered cache is import-bad-signature', () => {
  const reg = registry();
  reg.add('policies/faramesh/stripe/1.0.0', STRIPE_FPL);
  const policy = `import "${STRIPE}"\n${reg.trust()}`;
  const miss = check(reg, policy, { offline: true });
  assert.deepEqual(miss.codes, ['import-not-found']);
  assert.match(miss.first!.message, /offline/);

  assert.deepEqual(check(reg, policy).codes, []);
  writeFileSync(cachedPath(reg, STRIPE, 'policy.fpl'), STRIPE_FPL.replace('deny stripe/payouts', 'permit stripe/payouts'));
  const tampered = check(reg, policy, { offline: true });
  assert.deepEqual(tampered.codes, ['import-bad-signature']);
  assert.match(tampered.first!.message, /cache was modified/);
  // Back online, the registry copy is verified and re-cached.
  assert.deepEqual(check(reg, policy).codes, []);
  assert.deepEqual(check(reg, policy, { offline: true }).codes, []);
});

test('a FIFO, a device or a huge file planted in the cache is import-read-failed, never a hang or an endless read', () => {
  const reg = registry();
  reg.add('policies/faramesh/stripe/1.0.0', STRIPE_FPL);
  const policy = `import "${STRIPE}"\n${reg.trust()}`;
  assert.deepEqual(check(reg, policy).codes, []);
  const cached = cachedPath(reg, STRIPE, 'policy.fpl');
  const plant = [
    () => execFileSync('mkfifo', [cached]),
    () => symlinkSync('/dev/zero', cached),
    () => {
      writeFileSync(cached, '');
      truncateSync(cached, 64 * 1024 * 1024);
    },
  ];
  for (const make of plant) {
    rmSync(cached, { force: true });
    make();
    const planted = check(reg, policy, { offline: true });
    assert.deepEqual(planted.codes, ['import-read-failed']);
  }
  // Back online, the registry copy replaces it.
  assert.deepEqual(check(reg, policy).codes, []);
  assert.deepEqual(check(reg, policy, { offline: true }).codes, []);
});

test('a symlink planted in the cache never makes caching write or delete files elsewhere', () => {
  const reg = registry();
  reg.add('policies/faramesh/stripe/1.0.0', STRIPE_FPL);
  const policy = `import "${STRIPE}"\n${reg.trust()}`;
  const victim = mkdtempSync(join(tmpdir(), 'fm-victim-'));
  writeFileSync(join(victim, 'keep.txt'), 'precious');
  const entry = dirname(cachedPath(reg, STRIPE, 'policy.fpl'));
  mkdirSync(dirname(entry), { recursive: true });
  symlinkSync(victim, entry);
  const { codes } = check(reg, policy);
  assert.deepEqual(codes, ['import-cache-write-failed']);
  assert.deepEqual(readdirSync(victim), ['keep.txt']);
  rmSync(victim, { recursive: true, force: true });
});

test('a symlink planted higher up in the cache never makes caching create directories elsewhere', () => {
  const reg = registry();
  reg.add('policies/faramesh/stripe/1.0.0', STRIPE_FPL);
  const victim = mkdtempSync(join(tmpdir(), 'fm-victim-'));
  mkdirSync(join(reg.stackDir, '.faramesh'), { recursive: true });
  symlinkSync(victim, join(reg.stackDir, '.faramesh', 'import-cache'));
  const { codes } = check(reg, `import "${STRIPE}"\n${reg.trust()}`);
  assert.deepEqual(codes, ['import-cache-write-failed']);
  assert.deepEqual(readdirSync(victim), []);
  rmSync(victim, { recursive: true, force: true });
});

test('writeCache: false leaves the stack untouched', () => {
  const reg = registry();
  reg.add('policies/faramesh/stripe/1.0.0', STRIPE_FPL);
  assert.deepEqual(check(reg, `import "${STRIPE}"\n${reg.trust()}`, { writeCache: false }).codes, []);
  assert.ok(!existsSync(join(reg.stackDir, '.faramesh')));
});

test('nested imports resolve recursively with the root trust keys', () => {
  const reg = registry();
  const base = `${REGISTRY}/policies/faramesh/base@1.0.0`;
  // The nested pack pins its own (attacker) key; only the root policy's trust block counts.
  reg.add('policies/faramesh/stripe/1.0.0', `import "${base}" as base\n${reg.trust(makeKey('x'))}${STRIPE_FPL}`);
  reg.add('policies/faramesh/base/1.0.0', 'pack "base" {\n  rules {\n    deny shell/*\n  }\n}\n');
  const { resolved, codes } = check(reg, `import "${STRIPE}"\n${reg.trust()}`);
  assert.deepEqual(codes, []);
  const nested = resolved[0]?.imports[0];
  assert.equal(nested?.ref.name, 'base');
  assert.equal(nested?.alias, 'base');
  assert.equal(nested?.file?.source.name, base);
  assert.ok(existsSync(cachedPath(reg, base, 'policy.fpl')));
});

test('errors inside an imported file point into the import', () => {
  const reg = registry();
  const broken = `${REGISTRY}/policies/faramesh/broken@1.0.0`;
  reg.add(
    'policies/faramesh/broken/1.0.0',
    `import "${REGISTRY}/policies/faramesh/missing@2.0.0"\npack "broken" {\n  rate_limit "x/*": 5 minute\n}\n`,
  );
  const { codes, diagnostics } = check(reg, `import "${broken}"\n${reg.trust()}`);
  assert.deepEqual(codes.sort(), ['expected-token', 'import-not-found']);
  for (const d of diagnostics.items) assert.equal(d.source.name, broken);
});

test('an import cycle is reported once: import-cycle', () => {
  const reg = registry();
  const a = `${REGISTRY}/policies/acme/a@1.0.0`;
  const b = `${REGISTRY}/policies/acme/b@1.0.0`;
  reg.add('policies/acme/a/1.0.0', `import "${b}"\n`);
  reg.add('policies/acme/b/1.0.0', `import "${a}"\n`);
  const { codes, first, resolved } = check(reg, `import "${a}"\n${reg.trust()}`);
  assert.deepEqual(codes, ['import-cycle']);
  assert.equal(first?.source.name, b);
  assert.match(first!.message, /acme\/a@1\.0\.0 → .*acme\/b@1\.0\.0 → .*acme\/a@1\.0\.0/);
  assert.equal(resolved[0]?.imports[0]?.ref.name, 'b');
});

test(`imports nested more than ${MAX_IMPORT_DEPTH} deep: import-too-deep`, () => {
  const reg = registry();
  const ref = (i: number) => `${REGISTRY}/policies/chain/p${i}@1.0.0`;
  for (let i = 0; i <= MAX_IMPORT_DEPTH; i++) reg.add(`policies/chain/p${i}/1.0.0`, `import "${ref(i + 1)}"\n`);
  const { codes, first } = check(reg, `import "${ref(0)}"\n${reg.trust()}`);
  assert.deepEqual(codes, ['import-too-deep']);
  assert.equal(first?.source.name, ref(MAX_IMPORT_DEPTH - 1));
});

test('a diamond is loaded once and shared', () => {
  const reg = registry();
  const shared = `${REGISTRY}/policies/acme/shared@1.0.0`;
  reg.add('policies/acme/shared/1.0.0', 'pack "shared" {\n  rate_limit "x/*": 5 minute\n}\n');
  reg.add('policies/acme/left/1.0.0', `import "${shared}"\n`);
  reg.add('policies/acme/right/1.0.0', `import "${shared}"\n`);
  const { codes, resolved } = check(
    reg,
    `import "${REGISTRY}/policies/acme/left@1.0.0"\nimport "${REGISTRY}/policies/acme/right@1.0.0"\n${reg.trust()}`,
  );
  assert.deepEqual(codes, ['expected-token'], 'the shared file’s own error is reported once');
  assert.equal(resolved[0]?.imports[0]?.file, resolved[1]?.imports[0]?.file);
});

test('duplicate aliases and repeated imports: duplicate-import', () => {
  const reg = registry();
  reg.add('policies/faramesh/stripe/1.0.0', STRIPE_FPL);
  reg.add('policies/faramesh/stripe/1.1.0', STRIPE_FPL);
  reg.add('policies/faramesh/shell/1.0.0', 'pack "shell" {\n}\n');
  const policy = [
    `import "${STRIPE}" as rules`,
    `import "${REGISTRY}/policies/faramesh/shell@1.0.0" as rules`,
    `import "${STRIPE}"`,
    `import "${REGISTRY}/policies/faramesh/stripe@1.1.0" as stripe_new`,
    reg.trust(),
  ].join('\n');
  const { codes, diagnostics, resolved } = check(reg, policy);
  assert.deepEqual(codes, ['duplicate-import', 'duplicate-import', 'duplicate-import']);
  assert.deepEqual(
    diagnostics.items.map((d) => d.source.position(d.span.start).line),
    [2, 3, 4],
  );
  assert.match(diagnostics.items[0]!.message, /alias 'rules' is already used by the import on line 1/);
  assert.match(diagnostics.items[2]!.message, /at both 1\.0\.0 and 1\.1\.0/);
  assert.deepEqual(
    resolved.map((r) => r.alias),
    ['rules'],
  );
});

test('a key pinned under the publisher key id verifies community packs', () => {
  const reg = registry();
  const publisher = makeKey('acme-publisher');
  reg.writeKeys([reg.key, publisher]);
  reg.add('policies/acme/payments/1.0.0', STRIPE_FPL, { signer: publisher });
  const policy = `import "${REGISTRY}/policies/acme/payments@1.0.0"\ntrust {\n  key "acme-publisher" = "${publisher.publicB64}"\n}\n`;
  assert.deepEqual(check(reg, policy).codes, []);
});

test("a publisher's key pinned by key id cannot pass its pack off under a registry that has its own pinned key", () => {
  const reg = registry();
  const publisher = makeKey('acme-publisher');
  reg.writeKeys([reg.key, publisher]);
  reg.add('policies/faramesh/stripe/1.0.0', STRIPE_FPL, { signer: publisher });
  const pins = `trust {\n  key "${REGISTRY}" ed25519:${reg.key.publicB64}\n  key "acme-publisher" ed25519:${publisher.publicB64}\n}\n`;
  const { codes, first } = check(reg, `import "${STRIPE}"\n${pins}`);
  assert.deepEqual(codes, ['import-untrusted']);
  assert.match(first!.message, /publisher key 'acme-publisher', which is pinned by its id; such a key is not used for "github\.com/);
});

test('providers: the manifest must exist and be signed by a pinned key, like every artifact', () => {
  const reg = registry();
  const manifest = JSON.stringify({ name: 'vault', version: '1.0.0', binaries: {} });
  reg.add('providers/faramesh/vault/1.0.0', manifest, { signer: false });
  const signedFile = reg.add('providers/faramesh/spiffe/1.0.0', manifest);
  const vault = `${REGISTRY}/providers/faramesh/vault@1.0.0`;
  const spiffe = `${REGISTRY}/providers/faramesh/spiffe@1.0.0`;
  assert.deepEqual(check(reg, `import "${vault}"\n${reg.trust()}`).codes, ['import-unsigned'], 'an unsigned manifest is refused');
  assert.deepEqual(check(reg, `import "${spiffe}"\n`).codes, ['import-no-trust-key'], 'no pinned key, no import');
  const ok = check(reg, `import "${spiffe}"\n${reg.trust()}`);
  assert.deepEqual(ok.codes, []);
  assert.deepEqual(
    ok.resolved.map((r) => [r.ref.name, r.file, r.keyId]),
    [['spiffe', undefined, reg.key.id]],
  );
  assert.ok(existsSync(cachedPath(reg, spiffe, 'manifest.json.sig')));

  writeFileSync(signedFile, manifest.replace('{}', '{"linux-amd64": "evil"}'));
  assert.deepEqual(check(reg, `import "${spiffe}"\n${reg.trust()}`).codes, ['import-bad-signature']);
  assert.deepEqual(check(reg, `import "${REGISTRY}/providers/faramesh/kms@1.0.0"\n${reg.trust()}`).codes, ['import-not-found']);
  reg.add('providers/faramesh/junk/1.0.0', 'not json');
  assert.deepEqual(check(reg, `import "${REGISTRY}/providers/faramesh/junk@1.0.0"\n${reg.trust()}`).codes, ['import-invalid-manifest']);
});
