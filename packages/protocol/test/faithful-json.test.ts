import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foldKey, MAX_JSON_DEPTH, roundedInteger, unfaithfulJson } from '../src/faithful-json.js';

test('unfaithfulJson names the path of the first fault, in document order', () => {
  assert.equal(unfaithfulJson({ a: [1, 2, { b: 3 }], c: 4 }), undefined);
  assert.equal(
    unfaithfulJson(JSON.parse('{"a": [1, 2, {"b": 1e400}], "c": 1e400}'), 'params'),
    'params.a[2].b is a number too large to represent: refused, because it reads as Infinity',
  );
  assert.match(unfaithfulJson(JSON.parse('{"x": {"__proto__": {"admin": true}}}'))!, /^\$\.x\.__proto__ is a key named __proto__/);
  let deep: unknown = 1;
  for (let i = 0; i < MAX_JSON_DEPTH; i++) deep = [deep];
  assert.equal(unfaithfulJson(deep), undefined);
  assert.match(
    unfaithfulJson({ d: deep })!,
    new RegExp(`^\\$\\.d(\\[0\\]){${MAX_JSON_DEPTH - 1}} nests deeper than ${MAX_JSON_DEPTH} levels`),
  );
  assert.equal(unfaithfulJson({ Params: 1, params: 2 }), undefined);
  assert.match(unfaithfulJson({ q: { Params: 1, params: 2 } }, '$', { foldedKeys: true })!, /^\$\.q has keys 'Params' and 'params'/);
  assert.match(unfaithfulJson({ paramſ: 1, params: 2 }, '$', { foldedKeys: true })!, /keys 'paramſ' and 'params'/);
});

test('foldKey: case and compatibility forms fold alike, ASCII or not', () => {
  assert.equal(foldKey('Params'), 'params');
  assert.equal(foldKey('paramſ'), 'params');
  assert.equal(foldKey('ＰＡＲＡＭＳ'), 'params');
  assert.equal(foldKey('K\u212a'), 'kk');
});

test('a wide request (60,000 keys) is vetted, its fault named', () => {
  const wide: Record<string, number> = {};
  for (let i = 0; i < 60_000; i++) wide[`k${i}`] = i;
  assert.equal(unfaithfulJson({ args: wide }, '$', { foldedKeys: true }), undefined);
  wide.k59999 = Infinity;
  assert.equal(unfaithfulJson({ args: wide })!.split(' ')[0], '$.args.k59999');
});

test('roundedInteger: an integer JSON.parse would round is named; exact ones, strings and non-integers pass', () => {
  assert.match(roundedInteger('{"to_account": 12345678901234567999}')!, /^the integer 12345678901234567999 reads as 12345678901234567000 /);
  assert.match(roundedInteger('[1, -9007199254740993]')!, /integer -9007199254740993 reads as -9007199254740992/);
  // What JavaScript writes for a number it holds (the TypeScript SDK) reads back as that number.
  for (const ok of ['9007199254740991', '9007199254740992', '12345678901234567000', '-0', '1e400', '12345678901234567999.5'])
    assert.equal(roundedInteger(`{"n": ${ok}}`), undefined, ok);
  assert.equal(roundedInteger('{"s": "12345678901234567999", "k\\"99999999999999999999": 1}'), undefined);
  assert.match(roundedInteger('{"a": "x\\\\", "b": 99999999999999999999}')!, /integer 99999999999999999999/);
});
