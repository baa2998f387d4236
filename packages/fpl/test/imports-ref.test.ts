import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectTrustKeys, parseImportRef } from '../src/imports/index.js';
import { Diagnostics } from '../src/syntax/diagnostics.js';
import { parse } from '../src/syntax/parser.js';
import { Source } from '../src/syntax/source.js';
import { makeKey, REGISTRY } from './support/registry.js';

const errorCode = (raw: string) => parseImportRef(raw).error?.code;

test('parseImportRef splits registry, kind, namespace, name and version', () => {
  const raw = `${REGISTRY}/policies/faramesh/stripe@1.0.0`;
  assert.deepEqual(parseImportRef(raw), {
    ref: { registry: REGISTRY, kind: 'policies', ns: 'faramesh', name: 'stripe', version: '1.0.0', raw },
  });
  const provider = parseImportRef(`${REGISTRY}/providers/faramesh/vault@2.3.4`).ref;
  assert.equal(provider?.kind, 'providers');
  assert.equal(provider?.name, 'vault');
});

test('parseImportRef: a policy may omit its namespace, as the reference writes it', () => {
  const { ref } = parseImportRef(`${REGISTRY}/policies/stripe@1.3.0`);
  assert.deepEqual([ref?.kind, ref?.ns, ref?.name, ref?.version], ['policies', undefined, 'stripe', '1.3.0']);
});

test('parseImportRef: a framework may omit its namespace', () => {
  const { ref } = parseImportRef(`${REGISTRY}/frameworks/langgraph@1.0.0`);
  assert.equal(ref?.kind, 'frameworks');
  assert.equal(ref?.name, 'langgraph');
  assert.equal(ref?.ns, undefined);
  assert.equal(ref?.registry, REGISTRY);
});

test('parseImportRef accepts prerelease and build metadata', () => {
  assert.equal(parseImportRef(`${REGISTRY}/policies/acme/pay@1.2.3-rc.1+build.5`).ref?.version, '1.2.3-rc.1+build.5');
  assert.equal(parseImportRef(`example.com:8443/mirror/policies/acme/pay@0.0.1`).ref?.registry, 'example.com:8443/mirror');
  for (const v of ['1.0.0-0', '1.0.0-rc.0', '1.0.0-0a', '1.0.0-rc.10', '1.0.0-x-y.01a'])
    assert.equal(parseImportRef(`${REGISTRY}/policies/acme/pay@${v}`).ref?.version, v, v);
});

test('a numeric pre-release identifier with a leading zero is not semver (semver 2.0.0 §9)', () => {
  for (const v of ['1.0.0-01', '1.0.0-rc.01', '1.0.0-rc.1.00'])
    assert.equal(errorCode(`${REGISTRY}/policies/acme/pay@${v}`), 'import-unpinned', v);
});

test('parseImportRef rejects @latest, a missing version and ranges as import-unpinned', () => {
  for (const v of ['@latest', '', '@', '@^1.0.0', '@~1.2.0', '@1.x', '@1.0', '@>=1.0.0', '@*', '@v1.0.0', '@01.0.0']) {
    assert.equal(errorCode(`${REGISTRY}/policies/faramesh/stripe${v}`), 'import-unpinned', v);
  }
  const latest = parseImportRef(`${REGISTRY}/policies/faramesh/stripe@latest`).error!;
  assert.match(latest.message, /latest/);
  assert.match(latest.hint!, /stripe@1\.0\.0/);
});

test('parseImportRef rejects malformed paths as import-invalid-ref', () => {
  for (const raw of [
    '',
    'stripe@1.0.0',
    'policies/faramesh/stripe@1.0.0', // no registry
    `${REGISTRY}/widgets/faramesh/stripe@1.0.0`,
    `${REGISTRY}/policies/faramesh/..@1.0.0`,
    `${REGISTRY}/policies/../stripe@1.0.0`,
    `https://${REGISTRY}/policies/faramesh/stripe@1.0.0`,
    `${REGISTRY}//policies/faramesh/stripe@1.0.0`,
  ]) {
    assert.equal(errorCode(raw), 'import-invalid-ref', raw);
  }
});

test('collectTrustKeys reads both key forms from top-level trust blocks', () => {
  const a = makeKey('a');
  const b = makeKey('b');
  const text = `trust {\n  key "${REGISTRY}" ed25519:${a.publicB64}\n  key "acme-publisher" = "${b.publicB64}"\n  spiffe_federated "spiffe://partner.example.com" bundle_url = "https://x"\n}\n`;
  const { file, diagnostics } = parse(new Source('governance.fms', text));
  const keys = collectTrustKeys(file, diagnostics);
  assert.deepEqual(diagnostics.items, []);
  assert.deepEqual(
    keys.map((k) => [k.registry, Buffer.from(k.publicKey).toString('base64')]),
    [
      [REGISTRY, a.publicB64],
      ['acme-publisher', b.publicB64],
    ],
  );
});

test('collectTrustKeys reports malformed keys as invalid-trust-key and drops them', () => {
  const short = Buffer.alloc(16).toString('base64');
  const good = makeKey('good').publicB64;
  const text = [
    'trust {',
    `  key "${REGISTRY}" ed25519:${short}`,
    `  key "${REGISTRY}" rsa:${good}`,
    `  key "${REGISTRY}" ed25519:not*base64`,
    `  key ed25519:${good}`,
    `  key "${REGISTRY}"`,
    '}',
    '',
  ].join('\n');
  const diagnostics = new Diagnostics();
  const { file } = parse(new Source('governance.fms', text), diagnostics);
  assert.deepEqual(collectTrustKeys(file, diagnostics), []);
  assert.deepEqual(
    diagnostics.items.map((d) => [d.code, d.source.position(d.span.start).line]),
    [2, 3, 4, 5, 6].map((line) => ['invalid-trust-key', line]),
  );
  assert.match(diagnostics.items[0]!.message, /32 bytes/);
  assert.match(diagnostics.items[1]!.message, /rsa/);
});
