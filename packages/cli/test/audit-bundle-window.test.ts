/**
 * A decision whose credential is slow to come is recorded after calls decided meanwhile. Its time is
 * the log's, taken when it is sequenced, so times rise with seq: an evidence bundle's edge records
 * then show that no record of its window lies beyond them, and a run trimmed to leave that decision
 * out is reported incomplete.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { exportBundle, leafHash, rangeProof, readRecords, readVerifierKeys, verifyBundle, type EvidenceBundle } from '@faramesh/audit';
import { makeStack, providersProbed, RUNTIME, sleep } from './daemon-helpers.js';
import { FakeVault, VAULT_PROVIDER } from './fake-vault.js';

test('a decision held up by its credential fetch is timed when it is recorded, so a bundle cannot leave it out of its window unnoticed', async () => {
  const vault = new FakeVault();
  await vault.start();
  vault.kv.set('kv/payments/stripe', { value: 'sk_test' });
  const s = makeStack(
    `${RUNTIME}
${VAULT_PROVIDER}
agent "bot" {
  default deny
  rules {
    permit stripe/charge
    permit ticket/read
  }
  credential "stripe-key" {
    provider = "vault"
    path     = "payments/stripe"
    tools    = ["stripe/charge"]
  }
}
`,
    { VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.root },
  );
  try {
    assert.equal((await s.cliAsync('apply')).code, 0);
    await providersProbed(s);
    let release!: () => void;
    vault.hold = new Promise<void>((r) => (release = r));
    const slow = s.govern({ agent_id: 'bot', tool: 'stripe/charge', args: {} });
    await sleep(100);
    const quick = await s.govern({ agent_id: 'bot', tool: 'ticket/read', args: {} });
    await sleep(20);
    release();
    vault.hold = undefined;
    const charged = await slow;
    assert.equal(charged.effect, 'PERMIT');
    assert.equal((await s.cliAsync('apply', '--stop')).code, 0);

    const wal = join(s.dir, 'wal');
    const records = readRecords(wal);
    const seqOf = (action: string) => records.findIndex((r) => `action-${String(r.record.id)}` === action);
    const [q, c] = [seqOf(quick.action_id!), seqOf(charged.action_id!)];
    assert.ok(q >= 0 && c > q, 'the slow decision is recorded after the quick one');
    const time = (seq: number) => Date.parse(String(records[seq]!.record.time));
    for (let i = 1; i < records.length; i++) assert.ok(time(i) >= time(i - 1), `record ${i} is timed before record ${i - 1}`);

    // The operator's attempt: a window around the slow decision, its run trimmed to end before it.
    const keys = readVerifierKeys(join(s.dir, '.faramesh', 'keys', 'audit.pub'));
    const { bundle } = exportBundle(wal, keys, { from: time(c), to: time(c) });
    assert.equal(verifyBundle(bundle, keys).ok, true);
    const leaves = records.map((r) => leafHash(r.payload));
    const end = c - bundle.first_seq;
    const trimmed: EvidenceBundle = {
      ...bundle,
      records: bundle.records.slice(0, end),
      proof: rangeProof(leaves, bundle.first_seq, c, bundle.tree_size).map((h) => Buffer.from(h).toString('hex')),
    };
    const report = verifyBundle(trimmed, keys);
    assert.equal(report.ok, true, 'the trimmed records are authentic');
    assert.equal(report.window!.complete.end, false, 'and the run is reported to end inside its window');
  } finally {
    await s.cliAsync('apply', '--stop');
    s.stop();
    vault.stop();
  }
});
