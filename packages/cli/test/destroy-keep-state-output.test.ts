import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeStack } from './daemon-helpers.js';

test('destroy --keep-state does not say it removed the compiled artifacts it keeps', () => {
  const s = makeStack();
  try {
    assert.equal(s.cli('apply').code, 0);
    const r = s.cli('destroy', '--yes', '--keep-state');
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(s.dir, '.faramesh', 'governance.compiled.json')));
    assert.doesNotMatch(r.stdout, /compiled artifacts removed/);
    assert.match(r.stdout, /compiled policy and state kept/);
    const all = s.cli('destroy', '--yes');
    assert.match(all.stdout, /compiled artifacts removed/);
  } finally {
    s.stop();
  }
});
