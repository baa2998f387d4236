/**
 * The rule-order checks find covering rules through PatternIndex: it must hand back every rule that
 * covers a pattern (a missed one would let a `deny!` violation compile), and the earliest first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coverKey, PatternIndex, tailKey } from '../src/analysis/pattern-index.js';
import { covers } from '../src/patterns.js';
import { checkText } from './support/policy.js';
import type { RuleIR } from '../src/ir.js';

const rule = (tool: string): RuleIR => ({ effect: 'deny', tool, ref: `governance.fms:${tool}` }) as RuleIR;

test('coverKey: the text every match begins with', () => {
  assert.equal(coverKey('stripe/refund'), 'stripe/refund');
  assert.equal(coverKey('github/delete_*'), 'github/delete_');
  assert.equal(coverKey('github/**'), 'github');
  assert.equal(coverKey('github/*/merge'), 'github');
  assert.equal(coverKey('*_search'), '');
  assert.equal(coverKey('**'), '');
  assert.equal(tailKey('stripe/refund'), 'stripe/refund');
  assert.equal(tailKey('github/*_admin'), '_admin');
  assert.equal(tailKey('*/delete'), 'delete');
  assert.equal(tailKey('**/x/y'), 'x/y');
  assert.equal(tailKey('github/**'), '');
  assert.equal(tailKey('a*'), '');
});

test('mayCover hands back every rule that covers a pattern (every pair of a few thousand patterns)', () => {
  const segments = ['a', 'b', 'ab', 'ba', 'a*', '*b', 'a*b', '*a*', '*', '**'];
  const patterns: string[] = [];
  const grow = (prefix: string[], depth: number) => {
    if (prefix.length > 0) patterns.push(prefix.join('/'));
    if (depth === 0) return;
    for (const s of segments) if (!(s === '**' && prefix.at(-1) === '**')) grow([...prefix, s], depth - 1);
  };
  grow([], 3);
  const index = new PatternIndex();
  const rules = patterns.map(rule);
  for (const r of rules) index.add(r);
  let pairs = 0;
  for (const inner of patterns) {
    const candidates = index.mayCover(inner);
    const offered = new Set(candidates.map((r) => r.tool));
    for (const outer of patterns)
      if (covers(outer, inner)) {
        pairs++;
        assert.ok(offered.has(outer), `${outer} covers ${inner} but was not offered (key ${coverKey(outer)} vs ${coverKey(inner)})`);
      }
    // In the order the rules were added.
    const at = candidates.map((r) => rules.indexOf(r));
    assert.deepEqual(
      at,
      [...at].sort((x, y) => x - y),
    );
  }
  assert.ok(pairs > patterns.length, `${pairs} covering pairs checked`);
});

test('thousands of glob-first deny! and permits: each permit is checked against the deny!s that could cover it', () => {
  const lines = ['agent "bot" {', '  default deny', '  rules {'];
  for (let i = 0; i < 2000; i++) lines.push(`    deny! */d${i}`);
  for (let i = 0; i < 2000; i++) lines.push(`    permit **/p${i}`);
  lines.push('    permit x/d7', '  }', '}');
  const { errors } = checkText(lines.join('\n') + '\n');
  assert.deepEqual(
    errors.map((d) => d.message.replace(/.*'permit (\S+)'.*'deny! (\S+)'.*/, '$1 < $2')),
    ['x/d7 < */d7'],
  );
});

test('a deny! among thousands of rules under one namespace still forbids the permits it covers', () => {
  const lines = ['agent "bot" {', '  default deny', '  rules {'];
  for (let i = 0; i < 2000; i++) lines.push(`    deny! github/delete_${i}*`);
  for (let i = 0; i < 2000; i++) lines.push(`    permit github/get_${i}`);
  lines.push('    permit github/delete_1999_branch', '  }', '}');
  const { errors } = checkText(lines.join('\n') + '\n');
  assert.deepEqual(
    errors.map((d) => d.code),
    ['strict-deny-violated'],
  );
  assert.match(errors[0]!.message, /permit github\/delete_1999_branch.*'deny! github\/delete_1\*' \(governance.fms:5\)/);
});
