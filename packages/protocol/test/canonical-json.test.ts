import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canonicalJson, CanonicalJsonError } from '../src/canonical-json.js';

// Vectors from RFC 8785 (§3.2.2 sample, Appendix B numbers, §3.2.3 sorting).
test('RFC 8785 §3.2.2 sample object', () => {
  const input = JSON.parse(
    '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],' +
      '"string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
  );
  assert.equal(
    canonicalJson(input),
    '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' + '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
  );
});

test('RFC 8785 Appendix B number serialisation', () => {
  const vectors: [number, string][] = [
    [0, '0'],
    [-0, '0'],
    [5e-324, '5e-324'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
    [9007199254740992, '9007199254740992'],
    [-9007199254740992, '-9007199254740992'],
    [295147905179352830000, '295147905179352830000'],
    [1e21, '1e+21'],
    [1e-7, '1e-7'],
    [0.000001, '0.000001'],
    [333333333.3333332, '333333333.3333332'],
  ];
  for (const [n, s] of vectors) assert.equal(canonicalJson(n), s, `number ${n}`);
});

test('RFC 8785 §3.2.3 sorts keys by UTF-16 code units', () => {
  const input = {
    '\u20ac': 'Euro Sign',
    '\r': 'Carriage Return',
    '\ufb33': 'Hebrew Letter Dalet With Dagesh',
    '1': 'One',
    '\u{1F600}': 'Emoji: Grinning Face',
    '\u0080': 'Control',
    '\u00f6': 'Latin Small Letter O With Diaeresis',
  };
  // Read the order from the text: re-parsing would let JS put the integer-like key first.
  const keys = [...canonicalJson(input).matchAll(/"((?:[^"\\]|\\.)*)":/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
  assert.deepEqual(keys, ['\r', '1', '\u0080', '\u00f6', '\u20ac', '\u{1F600}', '\ufb33']);
});

test('nested structures and absent members', () => {
  assert.equal(canonicalJson({ b: [1, { d: 2, c: null }], a: undefined }), '{"b":[1,{"c":null,"d":2}]}');
});

test('values JSON cannot carry are rejected', () => {
  assert.throws(() => canonicalJson(NaN), CanonicalJsonError);
  assert.throws(() => canonicalJson({ x: Infinity }), /x: Infinity/);
  assert.throws(() => canonicalJson([1n]), CanonicalJsonError);
});

test('objects whose key lists look alike when joined are never confused (the key-order cache)', () => {
  assert.equal(canonicalJson({}), '{}');
  assert.equal(canonicalJson({ '': 1 }), '{"":1}');
  assert.equal(canonicalJson({ a: { '': 2 }, b: {} }), '{"a":{"":2},"b":{}}');
  assert.equal(canonicalJson({ 'a\u0000b': 1, c: 2 }), '{"a\\u0000b":1,"c":2}');
  assert.equal(canonicalJson({ a: 1, 'b\u0000c': 2 }), '{"a":1,"b\\u0000c":2}');
  assert.equal(canonicalJson({ c: 1, 'a\u0000b': 2 }), '{"a\\u0000b":2,"c":1}');
});

test('the JSON.stringify fast path agrees with member-by-member writing, whatever the key order', () => {
  // Shuffled key orders force the member-by-member writer; sorted ones take the fast path.
  const shuffle = (v: unknown, seed: number): unknown => {
    if (Array.isArray(v)) return v.map((x) => shuffle(x, seed));
    if (v === null || typeof v !== 'object') return v;
    const keys = Object.keys(v).sort((a, b) => ((a.length * 31 + seed) % 7) - ((b.length * 31 + seed) % 7) || (a < b ? 1 : -1));
    return Object.fromEntries(keys.map((k) => [k, shuffle((v as Record<string, unknown>)[k], seed)]));
  };
  fc.assert(
    fc.property(fc.jsonValue(), fc.nat(), (value, seed) => {
      const sorted = JSON.parse(canonicalJson(value)) as unknown;
      assert.equal(canonicalJson(sorted), canonicalJson(shuffle(value, seed)));
    }),
  );
  // Integer-like keys come first in an object whatever their insertion order: never taken as sorted.
  assert.equal(canonicalJson(JSON.parse('{"":false,"0":null,"10":1,"9":2}')), '{"":false,"0":null,"10":1,"9":2}');
});

test('what JSON.stringify would treat differently never takes the fast path', () => {
  // toJSON, boxed values and class instances: canonical JSON writes own members, as for any object.
  assert.equal(canonicalJson({ a: new Date(0) }), '{"a":{}}');
  assert.equal(canonicalJson({ a: Object.assign(Object.create({ toJSON: () => 'x' }) as object, { b: 1 }) }), '{"a":{"b":1}}');
  assert.equal(canonicalJson([new Number(1)]), '[{}]');
  assert.throws(() => canonicalJson({ a: [undefined] }), CanonicalJsonError);
  assert.equal(canonicalJson({ a: undefined, b: 1 }), '{"b":1}');
  assert.equal(canonicalJson({ a: -0 }), '{"a":0}');
});
