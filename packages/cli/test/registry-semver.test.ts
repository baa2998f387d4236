/**
 * Catalog versions are ordered by semver precedence: a pre-release comes before its release, and
 * pre-release identifiers compare numerically, so `registry list` and `info` never call a release
 * candidate the latest version of a release that exists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from './daemon-helpers.js';
import { bySemver } from '../src/registry/catalog.js';

test('bySemver follows semver precedence', () => {
  const sorted = ['1.0.0', '1.0.0-rc.10', '0.9.0', '1.0.0-rc.2', '1.0.0-alpha', '1.0.0-rc.1', '10.0.0', '2.0.0', '1.0.0-alpha.1'].sort(
    bySemver,
  );
  assert.deepEqual(sorted, [
    '0.9.0',
    '1.0.0-alpha',
    '1.0.0-alpha.1',
    '1.0.0-rc.1',
    '1.0.0-rc.2',
    '1.0.0-rc.10',
    '1.0.0',
    '2.0.0',
    '10.0.0',
  ]);
  assert.equal(bySemver('1.0.0+build.1', '1.0.0'), 1, 'build metadata does not decide (the text only breaks the tie)');
  assert.equal(bySemver('1.0.0-rc.1+b', '1.0.0'), -1);
  assert.equal(bySemver('not-a-version', '0.0.1'), 1);
});

test('registry list: a catalog without latest_version names the release, not a pre-release, as latest', () => {
  const root = mkdtempSync(join(tmpdir(), 'fm-semver-'));
  mkdirSync(join(root, 'catalog', 'artifacts'), { recursive: true });
  const versions = Object.fromEntries(
    ['1.0.0-rc.1', '1.0.0', '1.0.0-rc.2', '0.9.0'].map((v) => [v, `artifacts/policies/acme/p/${v}/policy.fpl`]),
  );
  writeFileSync(join(root, 'catalog', 'catalog.json'), JSON.stringify({ policies: [{ name: 'acme/p', description: 'd', versions }] }));
  const out = execFileSync(process.execPath, [BIN, 'registry', 'list', '--format', 'json'], {
    env: { ...process.env, FARAMESH_REGISTRY_ROOT: root, FARAMESH_REGISTRY_URL: '' },
    encoding: 'utf8',
  });
  const entry = (JSON.parse(out) as { entries: { latest_version: string; versions: string[] }[] }).entries[0]!;
  assert.equal(entry.latest_version, '1.0.0');
  assert.deepEqual(entry.versions, ['0.9.0', '1.0.0-rc.1', '1.0.0-rc.2', '1.0.0']);
});
