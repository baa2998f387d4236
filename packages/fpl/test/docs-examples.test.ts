import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { checkText } from './support/policy.js';
import { assertFormatsSafely } from './printer.test.js';

const dir = new URL('../../test/fixtures/docs/', import.meta.url);
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith('.fms'))
  .sort();

/**
 * Examples the reference itself contradicts: each must be rejected with exactly this diagnostic,
 * so a change in how we treat them is a deliberate decision.
 */
const REJECTED: Record<string, { code: string; why: string }> = {
  // fpl.md and stack.md say OS sandboxing is configured on runtime, "not here".
  'concepts__topologies-L287.fms': { code: 'unknown-field', why: 'enforcement { os_tier } — os_tier belongs to runtime' },
  // A placeholder where the publisher's ed25519 public key goes.
  'registry__contributing-L100.fms': { code: 'invalid-trust-key', why: '"BASE64_PUBLIC_KEY_FROM_README" is not a key' },
};

const env = { VAULT_ADDR: 'https://vault', VAULT_TOKEN: 't', REGION_PROVIDER: 'aws-sm-us' };

describe('every policy example of the reference docs', () => {
  test('there are many of them', () => assert.ok(fixtures.length >= 100, `${fixtures.length} fixtures`));
  for (const name of fixtures) {
    test(name, () => {
      const text = readFileSync(new URL(name, dir), 'utf8');
      const r = checkText(text, 'governance.fms', { env });
      const rejected = REJECTED[name];
      if (rejected) {
        assert.deepEqual([...new Set(r.errors.map((e) => e.code).filter((c) => !c.startsWith('import-')))], [rejected.code], rejected.why);
        return;
      }
      const imports = r.errors.filter((e) => e.code.startsWith('import-'));
      assert.deepEqual(
        r.errors.filter((e) => !e.code.startsWith('import-')).map((e) => `${e.source.lineOf(e.span.start)}: ${e.message}`),
        [],
        'accepted',
      );
      // Without a registry mirror the docs' imports cannot resolve; they must fail as imports, not as syntax.
      for (const e of imports) assert.match(e.code, /^import-(not-found|no-trust-key)$/);
      assertFormatsSafely(text);
    });
  }
});

/** Break one line of a valid example; the error must be reported at that line. */
const MUTATIONS: [string, RegExp, (m: string) => string, string][] = [
  ['misspelt effect', /^(\s*)permit /m, (m) => m.replace('permit', 'pemit'), 'unknown-field'],
  ['rate limit without per', / per (minute|hour|day|second)/, (m) => ` ${m.trim().split(' ')[1]}`, 'expected-token'],
  ['bad default', /default deny/, () => 'default dney', 'invalid-value'],
  ['bad on_exceed', /on_exceed (deny|defer)/, () => 'on_exceed later', 'invalid-value'],
  ['bad regex', /matches "/, () => 'matches "(', 'invalid-regex'],
  ['unknown runtime field', /^(\s*)mode(\s*)=/m, (m) => m.replace('mode', 'mdoe'), 'unknown-field'],
  ['bad alert', /on(\s*)= "deny"/, (m) => m.replace('deny', 'denied'), 'invalid-value'],
];

describe('broken variants of the doc examples are rejected at the right line', () => {
  for (const [title, find, replace, code] of MUTATIONS) {
    const targets = fixtures.filter((f) => !REJECTED[f] && find.test(readFileSync(new URL(f, dir), 'utf8'))).slice(0, 6);
    for (const name of targets) {
      test(`${title}: ${name}`, () => {
        const text = readFileSync(new URL(name, dir), 'utf8');
        const m = find.exec(text)!;
        const broken = text.slice(0, m.index) + replace(m[0]) + text.slice(m.index + m[0].length);
        const line = text.slice(0, m.index + m[0].length - m[0].trimStart().length).split('\n').length;
        const r = checkText(broken, 'governance.fms', { env });
        const found = r.errors.find((e) => e.code === code);
        assert.ok(found, `expected ${code}, got ${r.summary.join(', ')}`);
        assert.equal(found.source.lineOf(found.span.start), line);
      });
    }
  }
});
