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

test('a sink position that cannot be saved (a full disk) is said, and the daemon goes on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-sinkpos-'));
  const { log } = await AuditLog.open(join(dir, 'wal'));
  const got: unknown[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      got.push(...(JSON.parse(body) as { records: unknown[] }).records);
      res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  let full = false;
  const seal = {
    read: () => undefined,
    write: () => {
      if (full) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    },
  } as unknown as StateSeal;
  const said: string[] = [];
  const crashes: unknown[] = [];
  const onRejection = (e: unknown) => crashes.push(e);
  process.on('unhandledRejection', onRejection);
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const sinks = new Sinks(
      [{ name: 'hook', type: 'webhook-sink', ref: 'provider.hook', fields: { url } }],
      join(dir, 'wal'),
      join(dir, 'state'),
      seal,
      log.tip(),
      {},
      (l) => said.push(l),
    );
    full = true;
    const appended = await log.append({ type: 'daemon_stopped', reason: 'test' });
    sinks.kick(appended.seq);
    const deadline = Date.now() + 5000;
    while ((got.length === 0 || said.length === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(got.length, 1);
    assert.deepEqual(crashes, [], 'no unhandled rejection (it ends the daemon)');
    assert.match(said.join('\n'), /could not save their positions: ENOSPC/);
    await sinks.stop(100);
  } finally {
    process.off('unhandledRejection', onRejection);
    server.close();
    await log.close();
  }
});
