import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Diagnostics } from '../src/syntax/diagnostics.js';
import { Lexer } from '../src/syntax/lexer.js';
import { Source } from '../src/syntax/source.js';

function lex(text: string): { tokens: string[]; errors: string[] } {
  const diagnostics = new Diagnostics();
  const lexer = new Lexer(new Source('t.fms', text), diagnostics);
  const tokens: string[] = [];
  for (let t = lexer.next(); t.kind !== 'eof'; t = lexer.next())
    tokens.push(`${t.kind}:${typeof t.value === 'number' ? t.value : t.value}`);
  return { tokens, errors: diagnostics.items.map((d) => d.code) };
}

const cases: [string, string, string[]][] = [
  ['tool globs are one word', 'permit stripe/*', ['word:permit', 'word:stripe/*']],
  ['double star', 'deny **', ['word:deny', 'word:**']],
  ['dotted path', 'args.amount', ['word:args.amount']],
  ['dashed id', 'my-agent_1', ['word:my-agent_1']],
  ['integer', '42', ['number:42']],
  ['decimal', '3.14', ['number:3.14']],
  ['exponent', '1e3', ['number:1000']],
  ['negative', '-5', ['number:-5']],
  ['duration is a word', '24h', ['word:24h']],
  ['money', '$500', ['money:500']],
  ['money with cents', '$10.00', ['money:10']],
  ['double-quoted string', '"a b"', ['string:a b']],
  ['single-quoted string', "'a b'", ['string:a b']],
  ['escapes', String.raw`"\\d+\"\n\t\u0041"`, ['string:\\d+"\n\tA']],
  ['comparison operators', '== != <= >= < >', ['punct:==', 'punct:!=', 'punct:<=', 'punct:>=', 'punct:<', 'punct:>']],
  ['logic symbols', '&& || !', ['punct:&&', 'punct:||', 'punct:!']],
  ['strict deny', 'deny!', ['word:deny', 'punct:!']],
  ['braces and lists', '{ [a, b] }', ['punct:{', 'punct:[', 'word:a', 'punct:,', 'word:b', 'punct:]', 'punct:}']],
  ['comment skipped', 'a # b c\nd', ['word:a', 'word:d']],
  ['line continuation', 'a \\\n b', ['word:a', 'word:b']],
  ['unicode identifiers', 'outils/écrire', ['word:outils/écrire']],
  ['colon after string', '"x": 5', ['string:x', 'punct::', 'number:5']],
  ['email-ish word', 'ops@example', ['word:ops@example']],
  ['CRLF line endings', 'a\r\nb', ['word:a', 'word:b']],
  ['BOM is skipped', '\ufeffa', ['word:a']],
];

for (const [title, text, expected] of cases) {
  test(`lexer: ${title}`, () => {
    const r = lex(text);
    assert.deepEqual(r.tokens, expected);
    assert.deepEqual(r.errors, []);
  });
}

const bad: [string, string, string][] = [
  ['unterminated string', '"abc', 'unterminated-string'],
  ['string across a newline', '"ab\ncd"', 'unterminated-string'],
  ['invalid escape', String.raw`"\d"`, 'invalid-escape'],
  ['stray character', 'a % b', 'unexpected-character'],
  ['NUL byte', 'a\u0000b', 'unexpected-character'],
  ['bare dollar', '$', 'invalid-money'],
  ['dollar word', '$abc', 'invalid-money'],
  ['control character in string', '"a\u0001"', 'unexpected-character'],
];

for (const [title, text, code] of bad) {
  test(`lexer rejects ${title}`, () => assert.ok(lex(text).errors.includes(code), `${code} for ${JSON.stringify(text)}`));
}

test('newlineBefore and comments are tracked', () => {
  const diagnostics = new Diagnostics();
  const lexer = new Lexer(new Source('t.fms', 'a # one\n# two\nb'), diagnostics);
  assert.equal(lexer.next().newlineBefore, true);
  const b = lexer.next();
  assert.equal(b.text, 'b');
  assert.equal(b.newlineBefore, true);
  assert.deepEqual(
    lexer.comments.map((c) => [c.text, c.trailing]),
    [
      [' one', true],
      [' two', false],
    ],
  );
});
