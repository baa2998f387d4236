import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renameSync, rmSync } from 'node:fs';
import { AuditLog } from '../src/index.js';
import { delta, tmp } from './helpers.js';

// A record written to a segment no longer at its place is gone at the next open: acknowledging it
// would break "every decision that was acknowledged is in the log" (docs/daemon.md). The log fails
// instead, and the daemon denies with AUDIT_UNAVAILABLE.
for (const [what, remove] of [
  ['removed', (dir: string) => rmSync(dir, { recursive: true, force: true })],
  ['renamed', (dir: string) => renameSync(dir, `${dir}-moved`)],
] as const)
  test(`appends to a log whose directory was ${what} under it are refused, never acknowledged`, async () => {
    const dir = tmp();
    const { log } = await AuditLog.open(dir);
    await log.append(delta('a', 0, { tool: 't1' }));
    remove(dir);
    await assert.rejects(log.append(delta('a', 0, { tool: 't2' })), /removed or replaced/);
    await assert.rejects(log.append(delta('a', 0, { tool: 't3' })), /refuses appends/);
    await log.close().catch(() => {});
  });
