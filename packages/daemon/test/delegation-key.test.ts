import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DelegationTokens } from '../src/core/delegation.js';

test('a damaged delegation key (empty, cut short) is refused when opened, not found out at the first permitted delegation', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-dkey-'));
  try {
    const file = join(dir, 'delegation.key');
    const made = DelegationTokens.open(file);
    const token = await made.mint('sup', 'worker', [], undefined, Date.now());
    assert.ok('chain' in (await DelegationTokens.open(file).verify(token, 'worker', Date.now())));
    for (const damaged of ['', '\n', 'abc']) {
      writeFileSync(file, damaged);
      assert.throws(() => DelegationTokens.open(file), /delegation key .* is damaged/, JSON.stringify(damaged));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
