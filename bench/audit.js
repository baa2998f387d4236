// Audit log benchmark: durable appends (group commit) beside the machine's fsync floor, measured in
// the same run. Targets (issue: the audit log): ≥ 50,000 durable appends/s with 32 concurrent
// appenders; a single append's latency close to one fsync. Usage: node bench/audit.js [--json] [--quick]
import { mkdtempSync, openSync, writeSync, fdatasyncSync, closeSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AuditLog } from '@faramesh/audit';

const json = process.argv.includes('--json');
const quick = process.argv.includes('--quick');
const base = mkdtempSync(join(os.tmpdir(), 'faramesh-bench-'));
const round = (x) => Math.round(x * 10) / 10;
const p50 = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// The floor: write a record-sized block and fdatasync it, one at a time.
const fd = openSync(join(base, 'floor'), 'w');
const block = Buffer.alloc(400, 1);
const floor = [];
for (let i = 0; i < (quick ? 200 : 2000); i++) {
  const t0 = performance.now();
  writeSync(fd, block);
  fdatasyncSync(fd);
  floor.push((performance.now() - t0) * 1000);
}
closeSync(fd);

const record = (i) => ({
  agent_id: `agent-${i % 8}`,
  tool: 'stripe/refund',
  action_type: 'tool_call',
  args_hash: 'ab'.repeat(32),
  effect: 'permit',
  rule_ref: 'governance.fms:14',
  policy_version: 'cd'.repeat(32),
  time: '2026-11-22T05:00:00Z',
});

// One appender: each append waits for its own fsync.
const { log: single } = await AuditLog.open(join(base, 'single'));
const lat = [];
for (let i = 0; i < (quick ? 200 : 2000); i++) {
  const t0 = performance.now();
  await single.append(record(i));
  lat.push((performance.now() - t0) * 1000);
}
await single.close();

// 32 concurrent appenders, each appending as soon as its previous append is durable.
const { log } = await AuditLog.open(join(base, 'concurrent'));
const total = quick ? 40_000 : 200_000;
let issued = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: 32 }, async () => {
    while (issued < total) await log.append(record(issued++));
  }),
);
const seconds = (performance.now() - t0) / 1000;
const fsyncs = log.fsyncs;
const syncShare = log.syncMs / 1000 / seconds;
await log.close();
rmSync(base, { recursive: true, force: true });

const results = {
  fsync_floor_us: round(p50(floor)),
  log_append_durable_p50_us: round(p50(lat)),
  log_append_vs_fsync_ratio: round(p50(lat) / p50(floor)),
  log_append_durable_per_s: Math.round(total / seconds),
  log_records_per_fsync: round(total / fsyncs),
  log_time_in_fsync_share: Math.round(syncShare * 100) / 100,
};
const machine = { cores: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version, date: new Date().toISOString() };
if (json) console.log(JSON.stringify({ ...results, machine }, null, 2));
else {
  console.log(`Audit log — ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${machine.date}\n`);
  console.log(`fsync floor (write + fdatasync, p50)        ${results.fsync_floor_us} µs`);
  console.log(
    `one durable append (p50)                    ${results.log_append_durable_p50_us} µs  (${results.log_append_vs_fsync_ratio}× the floor)`,
  );
  console.log(
    `32 concurrent appenders                     ${results.log_append_durable_per_s} appends/s  (${results.log_records_per_fsync} records per fsync, ${Math.round(results.log_time_in_fsync_share * 100)}% of the time in write + fsync; target ≥ 50,000/s)`,
  );
}
