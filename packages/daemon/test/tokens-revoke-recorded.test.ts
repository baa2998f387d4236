/**
 * A token revoked is acknowledged only once the log records the token file without it. Acknowledged
 * before (the record still on its way to the disk), a crash right after leaves the log naming the
 * copy that still holds the token: that copy, put back, opens as the latest and the token works again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Ed25519Signer, newEd25519Key } from '@faramesh/audit';
import { StateSeal, type StateSealedFields } from '../src/stack/sealed-state.js';
import { TokenBook } from '../src/core/tokens.js';

test('tokens issue and revoke resolve only once the state_sealed record of the new file is durable', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-tok-'));
  try {
    const k = new Ed25519Signer('faramesh/stack', newEd25519Key());
    const seal = new StateSeal(k, [k]);
    const pending: { fields: StateSealedFields; durable: () => void }[] = [];
    await seal.anchor({}, { 'approvals.json': dir, 'policy-history.json': dir, 'tokens.json': dir }, (fields) => {
      return new Promise((resolve) => pending.push({ fields, durable: () => resolve({ seq: pending.length }) }));
    });
    const tokens = new TokenBook(join(dir, 'tokens.json'), seal);
    tokens.load();
    const settled = async (p: unknown): Promise<boolean> => {
      let done = false;
      void Promise.resolve(p).then(() => (done = true));
      await new Promise((r) => setTimeout(r, 20));
      return done;
    };

    const issuing = tokens.issue('operator', 'ops', undefined, Date.now());
    assert.equal(pending.length, 1);
    assert.equal(await settled(issuing), false, 'the token is not handed out before the log records it');
    pending[0]!.durable();
    assert.equal(await settled(issuing), true);

    const revoking = tokens.revoke('ops');
    assert.equal(tokens.list().length, 0, 'revoked at once in memory');
    assert.equal(pending.length, 2);
    assert.deepEqual([pending[1]!.fields.file, pending[1]!.fields.generation], ['tokens.json', 2]);
    assert.equal(await settled(revoking), false, 'the revoke is not acknowledged before the log records it');
    pending[1]!.durable();
    assert.equal(await settled(revoking), true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
