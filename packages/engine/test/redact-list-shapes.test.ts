import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redact, REDACTED } from '../src/index.js';

// The model chooses the shape of the arguments: a field named by a redact path stays masked when it
// arrives inside a list (one card or several), however deeply the lists nest.
test('a redacted field inside a list is masked in every item', () => {
  const paths = ['card.cvv', 'items[*].pan'];
  assert.deepEqual(redact({ card: [{ cvv: '123' }, { cvv: '456', brand: 'v' }] }, paths), {
    card: [{ cvv: REDACTED }, { cvv: REDACTED, brand: 'v' }],
  });
  assert.deepEqual(redact({ card: [[{ cvv: '123' }]] }, paths), { card: [[{ cvv: REDACTED }]] });
  assert.deepEqual(redact({ items: [{ pan: '1' }, [{ pan: '2' }]] }, paths), { items: [{ pan: REDACTED }, [{ pan: REDACTED }]] });
  // An index still names one item.
  assert.deepEqual(redact({ a: [{ b: 1 }, { b: 2 }] }, ['a.1.b']), { a: [{ b: 1 }, { b: REDACTED }] });
  assert.deepEqual(redact({ card: { cvv: '1' } }, paths), { card: { cvv: REDACTED } });
});
