import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readRecords } from '@faramesh/audit';
import { makeStack, RUNTIME, sleep, until } from './daemon-helpers.js';

// Every process of the stack reads a system clock the test steps back by writing to `step`.
const preload = fileURLToPath(new URL('../../test/fixtures/clock-step.mjs', import.meta.url));

const PHASED = `${RUNTIME}
agent "bot" {
  default deny
  phase "audit-only" {
    duration = "2s"
    next     = "enforce"
    rules { permit stripe/charge }
  }
  rules {
    deny stripe/charge reason "enforced"
  }
}
`;

test('a system clock stepped back, while the daemon runs or while it is down, does not bring an ended phase back', async () => {
  const step = join(mkdtempSync(join(tmpdir(), 'fm-clock-')), 'step');
  const s = makeStack(PHASED, { NODE_OPTIONS: `--import ${preload}`, FM_TEST_CLOCK_STEP: step });
  const charge = { agent_id: 'bot', tool: 'stripe', operation: 'charge', args: {} };
  try {
    assert.equal(s.cli('apply').code, 0);
    assert.equal((await s.govern(charge)).effect, 'PERMIT', 'in the audit-only phase');
    await sleep(2500);
    assert.equal((await s.govern(charge)).effect, 'DENY', 'the phase ended');

    writeFileSync(step, String(3_600_000));
    await sleep(100);
    assert.equal((await s.govern(charge)).effect, 'DENY', 'an hour back: the phase stays ended');
    const log = join(s.dir, '.faramesh', 'runtime', 'daemon.log');
    await until('the daemon log to tell of the step', () => /system clock is 3600 s behind/.test(readFileSync(log, 'utf8')));
    const status = JSON.parse(s.cli('status', '--format', 'json').stdout) as { daemon: { clock_ahead_ms: number } };
    assert.ok(Math.abs(status.daemon.clock_ahead_ms - 3_600_000) < 5000, `status says how far ahead: ${status.daemon.clock_ahead_ms}`);
    assert.match(s.cli('status').stdout, /clock:\s+1h 0m ahead of the system clock/);

    // Down, and back up on a clock two hours back: the log's latest time holds.
    process.kill(s.pid(), 'SIGKILL');
    writeFileSync(step, String(7_200_000));
    assert.equal(s.cli('apply').code, 0);
    assert.equal((await s.govern(charge)).effect, 'DENY', 'a restart on a clock stepped back: still ended');
    assert.equal(s.cli('apply', '--stop').code, 0);

    // The log's times never went backward, and it verifies.
    const times = readRecords(join(s.dir, 'wal')).map((r) => Date.parse(String(r.record.time)));
    for (let i = 1; i < times.length; i++) assert.ok(times[i]! >= times[i - 1]!, `record ${i} is not earlier than record ${i - 1}`);
    const verified = s.cli('audit', 'verify', '--strict');
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});
