/**
 * faramesh audit show (and explain <action-id>) finds its record reading the log a batch at a time:
 * held whole, a long-running stack's log (gigabytes) ran the CLI out of memory before it printed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '@faramesh/audit';
import { BIN } from './daemon-helpers.js';

test('audit show finds a record of a log far larger than its heap', async () => {
  const wal = join(mkdtempSync(join(tmpdir(), 'show-bounded-')), 'wal');
  const { log } = await AuditLog.open(wal);
  // About 80 MiB of records, against a 64 MiB heap for the CLI.
  const pad = 'x'.repeat(2000);
  let last = '';
  for (let batch = 0; batch < 40; batch++)
    for (const appended of await Promise.all(
      Array.from({ length: 1000 }, (_, i) => log.append({ type: 'state_delta', agent_id: 'bot', delta: { i: batch * 1000 + i, pad } })),
    ))
      last = appended.id;
  await log.close();
  const r = spawnSync(
    process.execPath,
    ['--max-old-space-size=64', BIN, 'audit', 'show', `action-${last}`, '--dir', wal, '--format', 'json'],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    },
  );
  assert.equal(r.status, 0, r.stderr.slice(0, 400));
  const shown = JSON.parse(r.stdout) as { record: { id: string; delta: { i: number } }; chain: { ok: boolean } };
  assert.equal(shown.record.id, last);
  assert.equal(shown.record.delta.i, 39_999);
  assert.equal(shown.chain.ok, true);
});
