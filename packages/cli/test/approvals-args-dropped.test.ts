import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BIN } from './daemon-helpers.js';

// An hour after an approval is done, the daemon drops its arguments from the book (`args_dropped`,
// `args: {}`). Shown as `{}`, the call read as one that had no arguments, and explain walked the
// rules on none.
test('approvals show and explain approval say the arguments were dropped, not that there were none', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'faramesh-args-dropped-'));
  const runtime = join(dir, '.faramesh', 'runtime');
  mkdirSync(runtime, { recursive: true });
  const approval = {
    id: 'apr-dropped',
    status: 'approved',
    agent_id: 'bot',
    tool: 'stripe/refund',
    args: {},
    args_dropped: true,
    action_id: 'action-01M8000000000000000000000',
    rule_ref: 'governance.fms:11',
    deferred_at: '2026-01-01T10:00:00.000Z',
    expires_at: '2026-01-02T10:00:05.000Z',
    resolved_at: '2026-01-01T10:00:05.000Z',
    resolved_by: 'alice',
    used_at: '2026-01-01T10:00:06.000Z',
  };
  // The operator channel, answering approvals.show as the daemon does.
  const server = createServer((c) => c.once('data', () => c.end(JSON.stringify({ ok: true, result: approval }) + '\n')));
  await new Promise<void>((r) => server.listen(join(runtime, 'operator.sock'), r));
  try {
    const run = promisify(execFile);
    const show = await run(process.execPath, [BIN, 'approvals', 'show', 'apr-dropped', '--dir', dir]);
    assert.match(show.stdout, /^Args: +\(dropped from the book an hour after it was done; the log keeps their hash\)$/m);
    assert.doesNotMatch(show.stdout, /\{\}/);
    const explained = await run(process.execPath, [BIN, 'explain', 'approval', 'apr-dropped', '--dir', dir]);
    assert.match(explained.stdout, /^args +\(dropped from the book an hour after it was done\)$/m);
    assert.doesNotMatch(explained.stdout, /\{\}/);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
