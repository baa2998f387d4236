import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { covers, matchTool, overlaps, patternProblem } from '../src/patterns.js';

const matches: [string, string, boolean][] = [
  ['stripe/refund', 'stripe/refund', true],
  ['stripe/refund', 'stripe/Refund', false],
  ['stripe/*', 'stripe/refund', true],
  ['stripe/*', 'stripe', false],
  ['stripe/*', 'stripe/a/b', false],
  ['stripe/**', 'stripe/a/b', true],
  ['stripe/**', 'stripe', true],
  ['**', 'anything/at/all', true],
  ['*', 'shell', true],
  ['*', 'shell/x', false],
  ['*_search', 'brave_search', true],
  ['*_search', 'a/brave_search', false],
  ['warehouse/*/write', 'warehouse/x/write', true],
  ['warehouse/*/write', 'warehouse/x/y/write', false],
  ['a/**/z', 'a/z', true],
  ['a/**/z', 'a/b/c/z', true],
  ['a/**/z', 'a/b/c/y', false],
  ['a*b*c', 'aXXbYYc', true],
  ['a*b*c', 'aXXbYY', false],
];

for (const [pattern, tool, expected] of matches) {
  test(`matchTool(${pattern}, ${tool}) = ${expected}`, () => assert.equal(matchTool(pattern, tool), expected));
}

test('covers', () => {
  assert.equal(covers('stripe/*', 'stripe/payouts'), true);
  assert.equal(covers('stripe/*', 'stripe/*'), true);
  assert.equal(covers('stripe/**', 'stripe/*'), true);
  assert.equal(covers('stripe/*', 'stripe/**'), false);
  assert.equal(covers('*', 'a/b'), false);
  assert.equal(covers('**', 'a/*/c'), true);
  assert.equal(covers('a/b', 'a/*'), false);
  assert.equal(covers('*_search', 'brave_search'), true);
});

test('a pattern that covers another matches every tool the other matches', () => {
  const seg = fc.constantFrom('a', 'b', '*', '**', 'a*', '*b');
  const pattern = fc.array(seg, { minLength: 1, maxLength: 4 }).map((s) => s.join('/'));
  const tool = fc.array(fc.constantFrom('a', 'b', 'ab', 'ba'), { minLength: 1, maxLength: 5 }).map((s) => s.join('/'));
  fc.assert(
    fc.property(pattern, pattern, tool, (outer, inner, t) => {
      if (patternProblem(outer) || patternProblem(inner)) return;
      if (covers(outer, inner) && matchTool(inner, t)) assert.ok(matchTool(outer, t), `${outer} ⊇ ${inner} but misses ${t}`);
    }),
    { numRuns: 3000 },
  );
});

test('segment matching is linear on hostile input', () => {
  const started = process.hrtime.bigint();
  assert.equal(matchTool('*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(5000)), false);
  assert.ok(process.hrtime.bigint() - started < 2_000_000_000n);
});

test('several ** stay fast on a tool id of hundreds of segments, and in check', () => {
  const tool = Array(200).fill('a').join('/');
  const many = Array(11).fill('**').join('/');
  const start = performance.now();
  assert.equal(matchTool('**/a/**/a/**/a/**/x', tool), false);
  assert.equal(matchTool('**/a/**/a/**/a/**/a', tool), true);
  assert.equal(covers(`${many}/z`, Array(22).fill('a').join('/') + '/y'), false);
  assert.equal(overlaps(`${many}/y`, `${many}/z`), false);
  assert.ok(performance.now() - start < 1000, `took ${performance.now() - start} ms`);
});

test('pattern problems', () => {
  assert.equal(patternProblem('a/b'), undefined);
  assert.match(patternProblem('')!, /empty/);
  assert.match(patternProblem('a//b')!, /empty segment/);
  assert.match(patternProblem('/a')!, /empty segment/);
  assert.match(patternProblem('a/')!, /empty segment/);
  assert.match(patternProblem('a/./b')!, /'\.'/);
  assert.match(patternProblem('a b')!, /whitespace/);
  assert.match(patternProblem('a\u0000')!, /control/);
  assert.match(patternProblem('a\u0085')!, /control/);
  assert.match(patternProblem('a\u00a0b')!, /whitespace/);
  assert.match(patternProblem('a\u2003b')!, /whitespace/);
  assert.match(patternProblem('a**')!, /whole segment/);
});
