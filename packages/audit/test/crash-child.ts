/**
 * Test helper: appends records until killed, printing each seq once its append resolved (was
 * acknowledged). Checkpoints and snapshots are frequent, so kills land in those writes too; with
 * `compact` as its second argument it also compacts every sealed segment again and again, so kills
 * land inside compactions.
 */
import { join } from 'node:path';
import { AuditLog, loadStackSigner } from '../src/index.js';

// The test runner also loads every file under test/: without a directory, there is nothing to do.
const dir = process.argv[2];
if (!dir) process.exit(0);
const signer = loadStackSigner(dir, 'faramesh/crash');
const { log } = await AuditLog.open(join(dir, 'wal'), { maxSegmentBytes: 4096, signer, checkpointEvery: 40, snapshotEvery: 25 });
let i = 0;
// Bursts of concurrent appends exercise group commit. Bursts of 8 or more sync on the threadpool as
// long as appends arrive during those syncs, and the single appends running beside them do.
async function bursts(): Promise<never> {
  for (;;) {
    const burst = Array.from({ length: 1 + (i % 16) }, () =>
      log.append({ type: 'state_delta', agent_id: `agent-${i % 3}`, delta: { n: i++ } }),
    );
    for (const entry of await Promise.all(burst)) process.stdout.write(`${entry.seq}\n`);
  }
}
async function singles(agent: string): Promise<never> {
  for (;;) {
    const entry = await log.append({ type: 'state_delta', agent_id: agent, delta: { n: i++ } });
    process.stdout.write(`${entry.seq}\n`);
  }
}
async function compactions(): Promise<never> {
  for (;;) {
    await new Promise((r) => setTimeout(r, 5));
    await log.compact({ before: Date.now() + 60_000, archiveDir: join(dir!, 'archive') });
  }
}
await Promise.all([bursts(), singles('agent-x'), singles('agent-y'), ...(process.argv[3] === 'compact' ? [compactions()] : [])]);
