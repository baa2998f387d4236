import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Ed25519Signer, keyId, newEd25519Key } from '@faramesh/audit';
import { StateSeal, TamperedStateError, type LoggedState, type StateSealedFields } from '../src/stack/sealed-state.js';

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

/** A state directory, a seal over it, and what it records once anchored to a log that says `logged`. */
function anchoredDir(k = key()) {
  const dir = mkdtempSync(join(tmpdir(), 'faramesh-sealed-'));
  const dirs = { 'approvals.json': dir, 'policy-history.json': dir, 'tokens.json': dir };
  const recorded: StateSealedFields[] = [];
  const fresh = () => new StateSeal(k, [k]);
  const anchor = async (seal: StateSeal, logged: Record<string, LoggedState>) =>
    seal.anchor(logged, dirs, (fields) => {
      recorded.push(fields);
      return Promise.resolve({ seq: recorded.length - 1 });
    });
  return {
    k,
    dir,
    recorded,
    fresh,
    anchor,
    file: (name: string) => join(dir, name),
    done: () => rmSync(dir, { recursive: true, force: true }),
  };
}

const stale = (why: RegExp) => (e: Error) => e instanceof TamperedStateError && why.test(e.message);

test('each write is the next generation, and once anchored each write of an anchored file is recorded', async () => {
  const d = anchoredDir();
  try {
    const seal = d.fresh();
    seal.write(d.dir, 'approvals.json', { approvals: [1] });
    seal.write(d.dir, 'approvals.json', { approvals: [2] });
    assert.equal((JSON.parse(readFileSync(d.file('approvals.json'), 'utf8')) as { generation: number }).generation, 2);
    // The log never heard of generation 2 (a crash before its record): the start accepts it and records it.
    const restarted = d.fresh();
    await d.anchor(restarted, {});
    assert.deepEqual(
      d.recorded.map((r) => [r.file, r.generation]),
      [['approvals.json', 2]],
    );
    restarted.write(d.dir, 'approvals.json', { approvals: [3] });
    restarted.write(d.dir, 'engine-state.json', { not: 'anchored' });
    assert.deepEqual(
      d.recorded.map((r) => [r.file, r.generation]),
      [
        ['approvals.json', 2],
        ['approvals.json', 3],
      ],
    );
    assert.deepEqual(restarted.read(d.dir, 'approvals.json'), { approvals: [3] });
    assert.equal(restarted.loggedState()['approvals.json']!.generation, 3);
    assert.equal(d.recorded[1]!.body_sha256, restarted.loggedState()['approvals.json']!.body_sha256);
  } finally {
    d.done();
  }
});

test('an older copy of an anchored file refuses the start; the latest copy, or none, is accepted', async () => {
  const d = anchoredDir();
  try {
    const seal = d.fresh();
    await d.anchor(seal, {});
    seal.write(d.dir, 'tokens.json', { tokens: ['revoked-later'] });
    const backup = readFileSync(d.file('tokens.json'), 'utf8');
    seal.write(d.dir, 'tokens.json', { tokens: [] });
    const latest = readFileSync(d.file('tokens.json'), 'utf8');
    const logged = seal.loggedState();
    assert.equal(logged['tokens.json']!.generation, 2);

    writeFileSync(d.file('tokens.json'), backup);
    await assert.rejects(
      d.anchor(d.fresh(), { 'tokens.json': { ...logged['tokens.json']!, seq: 41 } }),
      stale(/tokens\.json is an older copy \(generation 1\) than the daemon last wrote \(generation 2 \(record 41\)\): put back/),
    );
    // The same generation with other content was not sealed by this daemon's history.
    writeFileSync(d.file('tokens.json'), d.fresh().seal('tokens.json', { tokens: ['forged'] }, 2));
    await assert.rejects(d.anchor(d.fresh(), logged), stale(/not the copy the log records for generation 2/));
    // Renumbering a copy breaks its seal: the generation is signed.
    const renumbered = { ...(JSON.parse(backup) as object), generation: 3 };
    writeFileSync(d.file('tokens.json'), JSON.stringify(renumbered));
    await assert.rejects(d.anchor(d.fresh(), logged), stale(/changed outside the daemon/));
    // A file of the first format (no generation) opens as generation 0: older than anything the log records.
    const body = JSON.stringify({ tokens: ['from an older build'] });
    const v1 = Buffer.concat([keyId(d.k), d.k.signSync(Buffer.from(`faramesh-state/1\ntokens.json\n${body}`))]).toString('base64');
    writeFileSync(d.file('tokens.json'), JSON.stringify({ sealed: 'tokens.json', body, signature: v1 }));
    assert.deepEqual(d.fresh().read(d.dir, 'tokens.json'), { tokens: ['from an older build'] });
    await assert.rejects(d.anchor(d.fresh(), logged), stale(/older copy \(generation 0\)/));

    writeFileSync(d.file('tokens.json'), latest);
    d.recorded.length = 0;
    const again = d.fresh();
    await d.anchor(again, logged);
    assert.deepEqual(d.recorded, [], 'the latest copy needs no record');
    assert.deepEqual(again.read(d.dir, 'tokens.json'), { tokens: [] });
  } finally {
    d.done();
  }
});

test('a removed anchored file: the start goes on without it, records so, and refuses the old copy put back after', async () => {
  const d = anchoredDir();
  try {
    const seal = d.fresh();
    await d.anchor(seal, {});
    seal.write(d.dir, 'approvals.json', { approvals: ['approved, not yet spent'] });
    const copy = readFileSync(d.file('approvals.json'), 'utf8');
    const logged = seal.loggedState();
    rmSync(d.file('approvals.json'));
    d.recorded.length = 0;
    const restarted = d.fresh();
    await d.anchor(restarted, logged);
    assert.deepEqual(d.recorded, [{ file: 'approvals.json', generation: 2 }], 'removed: generation 2 has no content');
    assert.equal(restarted.read(d.dir, 'approvals.json'), undefined);
    writeFileSync(d.file('approvals.json'), copy);
    await assert.rejects(d.anchor(d.fresh(), restarted.loggedState()), stale(/a copy from before the daemon found it removed/));
    // The next write after the removal is generation 3, and opens.
    rmSync(d.file('approvals.json'));
    restarted.write(d.dir, 'approvals.json', { approvals: [] });
    assert.deepEqual(d.recorded.at(-1)!.generation, 3);
    await d.anchor(d.fresh(), restarted.loggedState());
  } finally {
    d.done();
  }
});
