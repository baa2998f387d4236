import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foldKey, MAX_JSON_DEPTH, roundedNumber, unfaithfulJson } from '../src/faithful-json.js';

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

test('roundedNumber: a number JSON.parse would round is named, in any layout; exact ones and strings pass', () => {
  assert.match(roundedNumber('{"to_account": 12345678901234567999}')!, /^the integer 12345678901234567999 reads as 12345678901234567000 /);
  assert.match(roundedNumber('[1, -9007199254740993]')!, /integer -9007199254740993 reads as -9007199254740992/);
  // The same integers, written with a fraction or an exponent, round the same way.
  for (const bad of ['12345678901234567999.0', '12345678901234567999e0', '1.2345678901234567999e19', '123456789012345679.99E2'])
    assert.match(roundedNumber(`{"n": ${bad}}`)!, new RegExp(`^the number ${bad.replace('.', '\\.')} reads as 12345678901234567000 `), bad);
  // A fraction past a double's precision reads as another amount; so does one too small for a double.
  assert.match(roundedNumber('{"amount": 1.0000000000000000001}')!, /number 1\.0000000000000000001 reads as 1 /);
  assert.match(roundedNumber('{"amount": 1e-400}')!, /number 1e-400 reads as 0 /);
  assert.match(roundedNumber('{"amount": 12345678901234567999.5}')!, /reads as 12345678901234567000 /);
  // What JavaScript, Python or Go write for a double they hold reads back as that double.
  for (const ok of [
    '9007199254740991',
    '9007199254740992',
    '12345678901234567000',
    '12345678901234567000.000',
    '1.2345678901234567e+19',
    '1.2345678901234567E19',
    '0.30000000000000004',
    '1.2345678901234568e-05',
    '0.000012345678901234568',
    '-0',
    '-0.0e5',
    '1e400',
    '1e5',
    '2.5E-3',
  ])
    assert.equal(roundedNumber(`{"n": ${ok}}`), undefined, ok);
  assert.equal(roundedNumber('{"s": "12345678901234567999", "k\\"99999999999999999999": 1}'), undefined);
  assert.match(roundedNumber('{"a": "x\\\\", "b": 99999999999999999999}')!, /integer 99999999999999999999/);
});

test('roundedNumber: a long run of zeros inside a number is read in linear time', () => {
  // `1.000…0001`: a regex trimming trailing zeros retried at every zero, seconds per 100 KB.
  const zeros = '0'.repeat(200_000);
  const started = performance.now();
  assert.match(roundedNumber(`{"amount": 1.${zeros}1}`)!, /reads as 1 /);
  assert.equal(roundedNumber(`{"amount": 1.${zeros}}`), undefined);
  assert.ok(performance.now() - started < 1000, `took ${Math.round(performance.now() - started)} ms`);
});
