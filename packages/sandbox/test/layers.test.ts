/**
 * The OS tier is Linux only (seed: "macOS and Windows hosts run policy, MCP proxy, and HTTP proxy
 * enforcement only"). Off Linux every layer is reported unavailable and says why, so apply warns and
 * the launcher, whose helper cannot run there, never starts an agent unconfined.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { probeLayers } from '../src/layers.js';

test('off Linux every enforcement layer is unavailable, naming the platform; the helper is not even looked for', () => {
  for (const platform of ['darwin', 'win32'] as const) {
    const layers = probeLayers('/nonexistent/helper', '/usr/bin/bwrap', platform);
    assert.deepEqual(
      layers.map((l) => [l.layer, l.available]),
      [
        ['namespaces', false],
        ['seccomp', false],
        ['landlock', false],
        ['ebpf-lsm', false],
      ],
    );
    for (const l of layers) assert.equal(l.detail, `not on ${platform}: the OS tier is Linux only`);
  }
});

test('on Linux a missing helper or bubblewrap is reported as such, never as available', () => {
  const layers = probeLayers('/nonexistent/helper', '/nonexistent/bwrap', 'linux');
  const byName = new Map(layers.map((l) => [l.layer, l]));
  assert.equal(byName.get('namespaces')?.available, false);
  assert.match(byName.get('namespaces')!.detail, /bubblewrap is not installed/);
  assert.equal(byName.get('helper')?.available, false);
  assert.equal(byName.get('landlock')?.available, false, 'unknown without the helper that probes it');
});
