import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { stripPositions } from '../src/ir.js';
import { fmt } from './support/format.js';
import { checkText } from './support/policy.js';

/** fmt is idempotent and never changes the compiled policy. */
export function assertFormatsSafely(text: string, name = 'governance.fms'): string {
  const once = fmt(text);
  assert.equal(fmt(once), once, 'fmt is idempotent');
  const before = checkText(text, name, { env: { HOME: '/root' } });
  const after = checkText(once, name, { env: { HOME: '/root' } });
  assert.deepEqual(
    after.errors.map((e) => e.code),
    before.errors.map((e) => e.code),
  );
  if (before.ir) assert.deepEqual(stripPositions(after.ir), stripPositions(before.ir));
  return once;
}

const golden: [string, string, string][] = [
  [
    'canonical layout',
    'agent "a" {\ndefault deny\n  rules { permit x\n  allow y when a&&b\n deny! z reason: "no" }\n}',
    'agent "a" {\n  default deny\n  rules {\n    permit x\n    permit y if a and b\n    deny!  z reason "no"\n  }\n}\n',
  ],
  [
    'aligns fields',
    'runtime {\n  mode = "enforce"\n  wal_dir = "./w"\n  os_tier = true\n}\n',
    'runtime {\n  mode    = "enforce"\n  wal_dir = "./w"\n  os_tier = true\n}\n',
  ],
  [
    'aligns budget values',
    'agent "a" {\n  budget daily {\n    max $5\n    on_exceed defer\n  }\n}\n',
    'agent "a" {\n  budget daily {\n    max       $5\n    on_exceed defer\n  }\n}\n',
  ],
  [
    'keeps comments',
    '# head\nagent "a" { # trailing\n  # inner\n  default deny # why\n  # last\n}\n# tail\n',
    '# head\nagent "a" {  # trailing\n  # inner\n  default deny  # why\n  # last\n}\n# tail\n',
  ],
  ['keeps one blank line', 'permit a\n\n\n\npermit b\npermit c\n', 'permit a\n\npermit b\npermit c\n'],
  ['minimal parentheses', 'permit a if (x == 1) and ((y == 2) or z == 3)\n', 'permit a if x == 1 and (y == 2 or z == 3)\n'],
  ['keeps right-nested parentheses', 'permit a if x or (y or z)\n', 'permit a if x or (y or z)\n'],
  ['not keeps its operand', 'permit a if !(x == 1) && not (a or b)\n', 'permit a if not x == 1 and not (a or b)\n'],
  ['method calls become operators', 'permit a if path.starts_with("./d")\n', 'permit a if path startsWith "./d"\n'],
  ['empty blocks', 'agent "a" {\n  rules { }\n  egress {}\n}\n', 'agent "a" {\n  rules {}\n  egress {}\n}\n'],
  ['strings re-escaped', 'permit a if x matches "\\\\d+\\"" reason \'it\'\n', 'permit a if x matches "\\\\d+\\"" reason "it"\n'],
  [
    'rate limits quote their pattern',
    'agent "a" {\n  rate_limit x:   5 per minute\n}\n',
    'agent "a" {\n  rate_limit "x": 5 per minute\n}\n',
  ],
  // It once wrote `use p { a b = 1 }`, which does not parse.
  ['use parameters keep quoted names', 'agent "a" {\n  use p { "a b" = 1, c: 2 }\n}\n', 'agent "a" {\n  use p { "a b" = 1 c = 2 }\n}\n'],
  ['trust entries verbatim', 'trust {\n  key   "r"   ed25519:AAAA\n}\n', 'trust {\n  key "r" ed25519:AAAA\n}\n'],
];

describe('fmt golden output', () => {
  for (const [title, input, expected] of golden) {
    test(title, () => assert.equal(fmt(input), expected));
  }
});

test('fmt of an empty file is empty', () => assert.equal(fmt(''), ''));
test('fmt of comments only', () => assert.equal(fmt('# a\n\n# b\n'), '# a\n\n# b\n'));
test('fmt is idempotent and meaning-preserving on the example stack', async () => {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(new URL('../../../../examples/support-stack/governance.fms', import.meta.url), 'utf8');
  assert.equal(assertFormatsSafely(text), text, 'the example is already canonical');
});

test('comments inside a rule stay where they were written', () => {
  // They once all moved below the rule, the last one's trailing comment among them, as if they
  // were about the next rule.
  const text = [
    'agent "a" {',
    '  deny shell/* # after the tool',
    '    if amount > 5 # on the first condition line',
    '      and x not in [1] or y # on the second',
    '    # on its own line, before reason',
    '    reason "no" # after reason',
    '  permit b/*',
    '}',
    '',
  ].join('\n');
  assert.equal(
    assertFormatsSafely(text),
    [
      'agent "a" {',
      '  deny   shell/*  # after the tool',
      '    if amount > 5  # on the first condition line',
      '      and not x in [1] or y  # on the second',
      '    # on its own line, before reason',
      '    reason "no"  # after reason',
      '  permit b/*',
      '}',
      '',
    ].join('\n'),
  );
  // Clauses print in canonical order; a comment follows the clause it was written after.
  assert.equal(assertFormatsSafely('deny x reason "r" # r\n  if a # a\n'), 'deny   x if a  # a\n  reason "r"  # r\n');
});

test('comments inside lists, maps and statements stay where they were written', () => {
  // They once all moved below the item, as if they were about the next one.
  const text = [
    'mcp_server "m" {',
    '  command = "npx"',
    '  args = [ # the args',
    '    "-y", # yes',
    '    # own line',
    '    "srv"',
    '  ]',
    '  env = { A = "1", # a',
    '    B = { C = env("X") } # after B',
    '  } # after the map',
    '}',
    'agent "a" {',
    '  rate_limit "x/*": # per tool',
    '    5 per minute',
    '  cost "x/*": $1',
    '  redact x/* args: [ # cards',
    '    "card.number"]',
    '  use p { # params',
    '    limit = 5 }',
    '}',
    '',
  ].join('\n');
  assert.equal(
    assertFormatsSafely(text),
    [
      'mcp_server "m" {',
      '  command = "npx"',
      '  args    = [  # the args',
      '    "-y",  # yes',
      '    # own line',
      '    "srv"',
      '  ]',
      '  env = {',
      '    A = "1"  # a',
      '    B = { C = env("X") }  # after B',
      '  }  # after the map',
      '}',
      'agent "a" {',
      '  rate_limit "x/*":  # per tool',
      '    5 per minute',
      '  cost "x/*": $1',
      '  redact x/* args: [  # cards',
      '    "card.number"',
      '  ]',
      '  use p {  # params',
      '    limit = 5',
      '  }',
      '}',
      '',
    ].join('\n'),
  );
});

test('a comment between use and its alias keeps the alias on the line of its parameters', () => {
  // It once wrote the alias on the `use` line and `{ a = 1 }` alone below it, which does not parse;
  // and for a `use` without parameters, a line of blanks that the next fmt removed.
  assert.equal(assertFormatsSafely('agent "a" {\n  use # c\n    p { a = 1 }\n}\n'), 'agent "a" {\n  use  # c\n    p { a = 1 }\n}\n');
  assert.equal(assertFormatsSafely('agent "a" {\n  use\n    # c\n    p {}\n}\n'), 'agent "a" {\n  use\n    # c\n    p\n}\n');
});

test('fmt escapes what the lexer refuses raw or UTF-8 cannot hold', () => {
  // A bidi control written as an escape must stay one (a raw one fails check), and a lone
  // surrogate must not be written raw (it would be saved as U+FFFD, another value).
  for (const escaped of ['\\u202e', '\\u2066', '\\ud83d', '\\ude00']) {
    const text = `permit a if x == "${escaped}"\n`;
    assert.equal(assertFormatsSafely(text), text);
  }
  const pair = 'permit a if x == "\\ud83d\\ude00"\n';
  assert.equal(fmt(pair), 'permit a if x == "\u{1F600}"\n');
});
