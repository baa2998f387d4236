/**
 * A sink that is down holds the redacted arguments of at most ARGS_HELD records it has yet to ship:
 * past that, the oldest ship without them, and the daemon log says so once (not once per record).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '@faramesh/audit';
import { Sinks } from '../src/outbound/sinks.js';
import type { StateSeal } from '../src/stack/sealed-state.js';

test('arguments let go in a long outage are reported once in the daemon log', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-sink-backlog-'));
  const { log } = await AuditLog.open(join(dir, 'wal'));
  const seal = { read: () => undefined, write: () => {} } as unknown as StateSeal;
  const said: string[] = [];
  // Port 9 on loopback: nothing listens, every delivery fails.
  const sinks = new Sinks(
    [{ name: 'hook', type: 'webhook-sink', ref: 'provider.hook', fields: { url: 'http://127.0.0.1:9/hook' } }],
    join(dir, 'wal'),
    join(dir, 'state'),
    seal,
    log.tip(),
    {},
    (line) => said.push(line),
  );
  try {
    for (let i = 0; i < 10_000; i++) sinks.holdArgs(`r${i}`, { i });
    assert.equal(said.length, 0, 'nothing let go yet');
    for (let i = 10_000; i < 10_050; i++) sinks.holdArgs(`r${i}`, { i });
    const reported = said.filter((l) => l.includes('without their arguments'));
    assert.equal(reported.length, 1, said.join('\n'));
    assert.match(reported[0]!, /record r0 on/);
  } finally {
    await sinks.stop(100);
    await log.close();
  }
});
