/**
 * faramesh audit tail prints the last records of a log of any size in bounded memory: it reads the
 * files a batch at a time and keeps only the last --limit matches, as export, ls and stats stream.
 * Held whole, a long-running stack's log (gigabytes) ran the CLI out of memory before one line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '@faramesh/audit';
import { BIN } from './daemon-helpers.js';

test('audit tail reads a log far larger than its heap a batch at a time and prints the last matches', async () => {
  const wal = join(mkdtempSync(join(tmpdir(), 'tail-bounded-')), 'wal');
  const { log } = await AuditLog.open(wal);
  // About 80 MiB of records, against a 48 MiB heap for the CLI.
  const pad = 'x'.repeat(4000);
  for (let batch = 0; batch < 20; batch++)
    await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        log.append({ type: 'state_delta', agent_id: i % 2 ? 'odd-bot' : 'even-bot', delta: { i: batch * 1000 + i, pad } }),
      ),
    );
  await log.close();
  const r = spawnSync(
    process.execPath,
    [
      '--max-old-space-size=48',
      BIN,
      'audit',
      'tail',
      '--dir',
      wal,
      '--no-follow',
      '--limit',
      '3',
      '--agent',
      'even-bot',
      '--format',
      'json',
    ],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  assert.equal(r.status, 0, r.stderr.slice(0, 400));
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { agent_id: string; delta: { i: number } });
  assert.deepEqual(
    lines.map((l) => [l.agent_id, l.delta.i]),
    [
      ['even-bot', 19994],
      ['even-bot', 19996],
      ['even-bot', 19998],
    ],
  );
});
