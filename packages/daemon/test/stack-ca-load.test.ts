/**
 * The stack's proxy CA as it is found on disk: a key that is not a key, or the key of another CA,
 * refuses the start with an error naming the files. Loaded anyway, the daemon would report
 * inspection as on while every inspected tunnel failed its handshake.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StackCa } from '../src/http-proxy/stack-ca.js';

const dir = mkdtempSync(join(tmpdir(), 'fm-stack-ca-'));

test('a CA whose key is corrupt, or belongs to another CA, is refused with a clear error', async () => {
  const keys = join(dir, 'keys');
  const other = join(dir, 'other');
  const first = await StackCa.load(keys, join(dir, 'pub'));
  assert.match(first.certPem, /BEGIN CERTIFICATE/);
  // Loaded again as it was written: the same CA.
  assert.equal((await StackCa.load(keys, join(dir, 'pub'))).certPem, first.certPem);

  await StackCa.load(other, join(dir, 'pub2'));
  copyFileSync(join(other, 'proxy-ca.key'), join(keys, 'proxy-ca.key'));
  await assert.rejects(StackCa.load(keys, join(dir, 'pub')), (e: Error) => {
    assert.match(e.message, /proxy CA in .*keys cannot be used: proxy-ca\.key is not the key of proxy-ca\.crt/);
    return true;
  });

  writeFileSync(join(keys, 'proxy-ca.key'), 'garbage\n', { mode: 0o600 });
  await assert.rejects(StackCa.load(keys, join(dir, 'pub')), (e: Error) => {
    assert.match(e.message, /proxy CA in .*keys cannot be used/);
    return true;
  });
});
