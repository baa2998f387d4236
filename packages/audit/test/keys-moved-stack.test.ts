/**
 * A stack moved or renamed keeps its log's origin: the daemon names the stack key after the stack's
 * directory, and a new name used to give the same key a new key id, a `key_rotated` record and
 * checkpoints of another origin, which `audit verify` then refused for good.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, renameSync } from 'node:fs';
import { basename, join } from 'node:path';
import { AuditLog, loadStackSigner, originFor, publicKeyFile, readVerifierKeys, verifyLog } from '../src/index.js';
import { tmp } from './helpers.js';

/** The stack key, named as the daemon names it: after the stack's directory. */
const stackSigner = (stack: string) => loadStackSigner(stack, originFor(basename(stack)));

async function session(stack: string, i: number): Promise<void> {
  const { log } = await AuditLog.open(join(stack, 'wal'), { signer: stackSigner(stack) });
  await log.append({ type: 'state_delta', agent_id: 'bot', delta: { i } });
  await log.close();
}

test('a renamed stack signs on under the name its key was pinned with, and its log still verifies', async () => {
  const parent = tmp();
  const before = join(parent, 'shop');
  const after = join(parent, 'shop-renamed');
  mkdirSync(before);
  await session(before, 1);
  renameSync(before, after);
  await session(after, 2);
  assert.equal(stackSigner(after).name, 'faramesh/shop');
  assert.equal(readFileSync(publicKeyFile(after), 'utf8').trim().split('\n').length, 1, 'no second pin of the same key');
  const report = verifyLog(join(after, 'wal'), { verifiers: readVerifierKeys(publicKeyFile(after)) });
  assert.deepEqual(report.problems, []);
  assert.equal(report.checkpoints.keys.length, 1, 'no key_rotated for a move');
  assert.ok(report.checkpoints.verified >= 2);
});
