/**
 * A sink ships only records it was told are durable: one written but not yet synced may never be
 * acknowledged (a failed sync, then AuditLog.resume; a crash), and another record take its place.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '@faramesh/audit';
import { Sinks } from '../src/outbound/sinks.js';
import type { StateSeal } from '../src/stack/sealed-state.js';

test('a sink reads no further than the last record it heard was durable', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-sink-durable-'));
  const { log } = await AuditLog.open(join(dir, 'wal'));
  const got: number[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      got.push(...(JSON.parse(body) as { records: { seq: number }[] }).records.map((r) => r.seq));
      res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const seal = { read: () => undefined, write: () => {} } as unknown as StateSeal;
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const sinks = new Sinks(
    [{ name: 'hook', type: 'webhook-sink', ref: 'provider.hook', fields: { url } }],
    join(dir, 'wal'),
    join(dir, 'state'),
    seal,
    log.tip(),
    {},
    () => {},
  );
  const until = async (n: number) => {
    for (const deadline = Date.now() + 5000; got.length < n && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
  };
  try {
    const first = await log.append({ type: 'daemon_stopped', reason: 'one' });
    // Two more are in the files, but the sink has heard only of the first.
    await log.append({ type: 'daemon_stopped', reason: 'two' });
    const last = await log.append({ type: 'daemon_stopped', reason: 'three' });
    sinks.kick(first.seq);
    await until(1);
    assert.deepEqual(got, [first.seq], 'only the record heard durable');
    sinks.kick(last.seq);
    await until(3);
    assert.deepEqual(got, [first.seq, first.seq + 1, last.seq]);
  } finally {
    await sinks.stop(100);
    server.close();
    await log.close();
  }
});
