import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  consistencyProof,
  EMPTY_ROOT,
  inclusionProof,
  leafHash,
  MerkleFrontier,
  rangeProof,
  rootFromRange,
  subtreeRoot,
  verifyConsistency,
  verifyInclusion,
} from '../src/merkle.js';

// The reference leaves and roots used by Certificate Transparency implementations for RFC 6962.
const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((h) =>
  leafHash(Buffer.from(h, 'hex')),
);
const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const hex = (h: Uint8Array) => Buffer.from(h).toString('hex');

test('RFC 6962 reference roots for trees of 1 to 8 leaves', () => {
  assert.equal(hex(EMPTY_ROOT), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  for (let n = 1; n <= 8; n++) assert.equal(hex(subtreeRoot(LEAVES.slice(0, n))), ROOTS[n - 1], `size ${n}`);
});

test('the frontier gives the same roots while appending', () => {
  const f = new MerkleFrontier();
  LEAVES.forEach((leaf, i) => {
    f.append(leaf);
    assert.equal(hex(f.root()), ROOTS[i]);
  });
});

// Distinct records (each starts with its index), so "the same leaf at another index" is a real forgery.
const leaves = fc
  .array(fc.uint8Array({ maxLength: 8 }), { minLength: 1, maxLength: 70 })
  .map((records) => records.map((r, i) => leafHash(Buffer.from([i, ...r]))));

test('inclusion proofs verify for every leaf of random trees, and fail when anything is altered', () => {
  fc.assert(
    fc.property(leaves, fc.nat(), fc.nat(), (ls, pick, flip) => {
      const root = subtreeRoot(ls);
      const i = pick % ls.length;
      const proof = inclusionProof(ls, i);
      assert.ok(verifyInclusion(i, ls.length, ls[i]!, proof, root));
      // A different leaf, index, size, root or proof element is refused.
      const other = leafHash(Buffer.from('not in the log'));
      assert.equal(verifyInclusion(i, ls.length, other, proof, root), false);
      if (ls.length > 1) assert.equal(verifyInclusion((i + 1) % ls.length, ls.length, ls[i]!, proof, root), false);
      assert.equal(verifyInclusion(i, ls.length, ls[i]!, proof, other), false);
      if (proof.length > 0) {
        const bad = proof.map((h) => Buffer.from(h));
        bad[flip % bad.length]![0]! ^= 1;
        assert.equal(verifyInclusion(i, ls.length, ls[i]!, bad, root), false);
        assert.equal(verifyInclusion(i, ls.length, ls[i]!, proof.slice(1), root), false);
      }
    }),
    { numRuns: 300 },
  );
});

test('consistency proofs verify between random sizes, and fail for altered trees or proofs', () => {
  fc.assert(
    fc.property(leaves, fc.nat(), fc.nat(), (ls, pick, flip) => {
      const n = ls.length;
      const m = pick % (n + 1);
      const proof = consistencyProof(ls, m);
      const oldRoot = subtreeRoot(ls, 0, m);
      const newRoot = subtreeRoot(ls);
      assert.ok(verifyConsistency(m, n, oldRoot, newRoot, proof), `${m} → ${n}`);
      if (m > 0 && m < n) {
        // A rewritten history: change one old leaf.
        const rewritten = [...ls];
        rewritten[flip % m] = leafHash(Buffer.from('rewritten'));
        assert.equal(verifyConsistency(m, n, subtreeRoot(rewritten, 0, m), newRoot, proof), false);
        assert.equal(verifyConsistency(m, n, oldRoot, subtreeRoot(rewritten), proof), false);
        const bad = proof.map((h) => Buffer.from(h));
        bad[flip % bad.length]![0]! ^= 1;
        assert.equal(verifyConsistency(m, n, oldRoot, newRoot, bad), false);
        assert.equal(verifyConsistency(m, n, oldRoot, newRoot, []), false);
      }
    }),
    { numRuns: 300 },
  );
});

test('range proofs: every run of leaves in every tree up to 40 rebuilds the root; any change to leaves, proof or position does not', () => {
  const all = Array.from({ length: 40 }, (_, i) => leafHash(Buffer.from(`record ${i}`)));
  const other = leafHash(Buffer.from('forged'));
  for (let n = 1; n <= all.length; n++) {
    const root = hex(subtreeRoot(all, 0, n));
    for (let a = 0; a < n; a++)
      for (let b = a + 1; b <= n; b++) {
        const range = all.slice(a, b);
        const proof = rangeProof(all, a, b, n);
        assert.ok(proof.length <= 2 * Math.ceil(Math.log2(n + 1)), `${proof.length} hashes for [${a}, ${b}) of ${n}`);
        assert.equal(hex(rootFromRange(n, a, range, proof)!), root);
        const forged = [...range];
        forged[(a * 7 + b) % range.length] = other;
        assert.notEqual(hex(rootFromRange(n, a, forged, proof) ?? new Uint8Array()), root);
        // Dropping a record from either end, or shifting the run, fails.
        if (range.length > 1) assert.notEqual(hex(rootFromRange(n, a, range.slice(1), proof) ?? new Uint8Array()), root);
        if (b < n) assert.notEqual(hex(rootFromRange(n, a + 1, range, proof) ?? new Uint8Array()), root);
        if (proof.length > 0) {
          assert.equal(rootFromRange(n, a, range, proof.slice(1)), undefined, 'a proof one hash short');
          const bent = [...proof];
          bent[0] = other;
          assert.notEqual(hex(rootFromRange(n, a, range, bent)!), root);
        }
        assert.equal(rootFromRange(n, a, range, [...proof, other]), undefined, 'a proof one hash long');
      }
  }
  assert.throws(() => rangeProof(all, 3, 3), RangeError);
  assert.equal(rootFromRange(4, 3, all.slice(0, 2), []), undefined, 'a run past the tree');
});

test('proof requests outside the tree are refused', () => {
  assert.throws(() => inclusionProof(LEAVES, 8), RangeError);
  assert.throws(() => consistencyProof(LEAVES, 9), RangeError);
  assert.equal(verifyInclusion(8, 8, LEAVES[0]!, [], EMPTY_ROOT), false);
  assert.equal(verifyConsistency(5, 4, EMPTY_ROOT, EMPTY_ROOT, []), false);
});
