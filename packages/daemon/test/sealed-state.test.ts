import { test } from 'node:test';
import assert from 'node:assert/strict';

import { Ed25519Signer, newEd25519Key } from '@faramesh/audit';
import { StateSeal, TamperedStateError } from '../src/stack/sealed-state.js';

const key = (name = 'faramesh/stack') => new Ed25519Signer(name, newEd25519Key());

test('a sealed state file opens to what was sealed, and to nothing else', () => {
  const k = key();
  const seal = new StateSeal(k, [k]);
  const value = { approvals: [{ id: 'apr-1', status: 'pending', amount: 1e21, note: 'é\u2028' }] };
  const text = seal.seal('approvals.json', value);
  assert.deepEqual(seal.open('approvals.json', text), value);
  const file = JSON.parse(text) as { sealed: string; body: string; signature: string };
  const refused = (name: string, t: string, why: RegExp) =>
    assert.throws(
      () => seal.open(name, t),
      (e: Error) => e instanceof TamperedStateError && why.test(e.message),
    );
  refused('approvals.json', JSON.stringify({ ...file, body: file.body.replace('pending', 'approved') }), /changed outside the daemon/);
  refused('agents.json', text, /holds the state sealed as approvals\.json/);
  refused('approvals.json', JSON.stringify({ ...file, sealed: 'agents.json' }), /sealed as agents\.json/);
  refused('approvals.json', JSON.stringify(value), /not a sealed state file/);
  refused('approvals.json', '{"sealed":', /not JSON/);
  // Sealed by a key that is not pinned: refused, however well formed.
  const stranger = key();
  refused('approvals.json', new StateSeal(stranger, [stranger]).seal('approvals.json', value), /changed outside the daemon/);
});

test('after a key rotation, files sealed under the earlier pinned key still open', () => {
  const before = key();
  const after = key();
  const text = new StateSeal(before, [before]).seal('engine-state.json', { format: 'x' });
  assert.deepEqual(new StateSeal(after, [before, after]).open('engine-state.json', text), { format: 'x' });
});
