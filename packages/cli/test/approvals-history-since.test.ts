import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BIN } from './daemon-helpers.js';

const ago = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString();
const approval = (id: string, deferred: number, resolved: number | undefined, status: string) => ({
  id,
  status,
  agent_id: 'bot',
  tool: 'stripe/refund',
  args: {},
  action_id: `action-${id}`,
  deferred_at: ago(deferred),
  expires_at: ago(deferred - 72),
  ...(resolved === undefined ? {} : { resolved_at: ago(resolved), resolved_by: 'alice' }),
});

// History is what was resolved in the window: an approval deferred three days ago and approved an
// hour ago is in today's history; one resolved three days ago is not, nor one still pending.
test('approvals history --since takes approvals by when they were resolved, not when they were deferred', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'faramesh-history-'));
  const runtime = join(dir, '.faramesh', 'runtime');
  mkdirSync(runtime, { recursive: true });
  const book = [
    approval('apr-late', 72, 1, 'approved'),
    approval('apr-old', 73, 72, 'denied'),
    approval('apr-fresh', 2, 1, 'approved'),
    approval('apr-waiting', 70, undefined, 'pending'),
  ];
  // The operator channel, answering approvals.list as the daemon does.
  const server = createServer((c) => c.once('data', () => c.end(JSON.stringify({ ok: true, result: { approvals: book } }) + '\n')));
  await new Promise<void>((r) => server.listen(join(runtime, 'operator.sock'), r));
  try {
    const run = promisify(execFile);
    const { stdout } = await run(process.execPath, [BIN, 'approvals', 'history', '--since', '24h', '--dir', dir, '--format', 'json']);
    const ids = (JSON.parse(stdout) as { approvals: { id: string }[] }).approvals.map((a) => a.id);
    assert.deepEqual(ids, ['apr-late', 'apr-fresh']);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
