// Audit log benchmark: durable appends (group commit) beside the machine's fsync floor, measured in
// the same run; `audit verify` throughput (on worker threads, and inline); opening a large log from its snapshot. Targets (issue: the
// audit log): ≥ 50,000 durable appends/s with 32 concurrent appenders; a single append's latency
// close to one fsync; verify ≥ 200,000 records/s; opening a 1,000,000-record log ≤ 300 ms.
// Usage: node bench/audit.js [--json] [--quick]
import { mkdtempSync, openSync, writeSync, fdatasyncSync, closeSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { AuditLog, Ed25519Signer, newEd25519Key, PARALLEL_MIN_BYTES, verifyLog, verifyLogParallel } from '@faramesh/audit';

const json = process.argv.includes('--json');
const quick = process.argv.includes('--quick');
const base = mkdtempSync(join(os.tmpdir(), 'faramesh-bench-'));
const round = (x) => Math.round(x * 10) / 10;
const p50 = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// The floors: write a record-sized block and fdatasync it, one at a time, growing the file (the
// length changes, so the journal commits too), and overwriting preallocated blocks (data only, as
// the log's active segment does).
const block = Buffer.alloc(400, 1);
function fsyncFloor(name, preallocate) {
  const fd = openSync(join(base, name), 'w');
  const n = quick ? 200 : 2000;
  if (preallocate) {
    writeSync(fd, Buffer.alloc(n * block.length));
    fdatasyncSync(fd);
  }
  const times = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    writeSync(fd, block, 0, block.length, i * block.length);
    fdatasyncSync(fd);
    times.push((performance.now() - t0) * 1000);
  }
  closeSync(fd);
  return times;
}
const floor = fsyncFloor('floor', false);
const overwriteFloor = fsyncFloor('floor-preallocated', true);

const record = (i) => ({
  type: 'decision',
  schema: 'dpr/2.0',
  agent_id: `agent-${i % 8}`,
  tool: 'stripe/refund',
  action_type: 'tool_call',
  args_hash: 'ab'.repeat(32),
  effect: 'permit',
  rule_ref: 'governance.fms:14',
  policy_version: 'cd'.repeat(32),
  latency_ms: { policy: 0.01 },
});
const signer = new Ed25519Signer('faramesh/bench', newEd25519Key());
const policy = { type: 'policy_applied', policy_version: 'cd'.repeat(32), source_hash: 'ef'.repeat(32) };

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
const { log } = await AuditLog.open(join(base, 'concurrent'), { signer });
await log.append(policy);
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

// Verify what the appenders wrote: every hash, link, field and checkpoint.
// As `audit verify` does it (on worker threads, one per core but one, when the log is large enough), then
// inline on one thread; the best of two runs each.
async function timeVerify(verify) {
  let best = Infinity;
  let report;
  for (let i = 0; i < 2; i++) {
    const t = performance.now();
    report = await verify(join(base, 'concurrent'), { verifiers: [signer] });
    best = Math.min(best, (performance.now() - t) / 1000);
    if (!report.ok) throw new Error(`the benchmark log does not verify: ${JSON.stringify(report.problems[0])}`);
  }
  return { verified: report, seconds: best };
}
const logBytes = readdirSync(join(base, 'concurrent'))
  .filter((f) => f.endsWith('.wal'))
  .reduce((n, f) => n + statSync(join(base, 'concurrent', f)).size, 0);
const verifyThreads = logBytes >= PARALLEL_MIN_BYTES ? Math.min(4, Math.max(1, availableParallelism() - 1)) : 0;
const { verified, seconds: verifySeconds } = await timeVerify(verifyLogParallel);
const { seconds: inlineSeconds } = await timeVerify(verifyLog);
let t1;

// A large log, then open it: from its snapshot (the tail only), and without (a full scan).
const bigDir = join(base, 'big');
const bigTotal = quick ? 100_000 : 1_000_000;
// Quick runs use smaller segments, so that some are sealed for compaction to move.
const segmentBytes = quick ? { maxSegmentBytes: 8 << 20 } : {};
const { log: big } = await AuditLog.open(bigDir, { signer, ...segmentBytes });
await big.append(policy);
issued = 0;
await Promise.all(
  Array.from({ length: 256 }, async () => {
    while (issued < bigTotal) await big.append(record(issued++));
  }),
);
await big.close();
const opens = [];
for (let i = 0; i < 5; i++) {
  t1 = performance.now();
  const { log: reopened, report } = await AuditLog.open(bigDir);
  opens.push(performance.now() - t1);
  if (report.snapshot !== 'used') throw new Error('the snapshot was not used');
  await reopened.close();
}
// The worst case short of a lost snapshot: a crash just before the next one, 9,999 records of tail.
const { log: more } = await AuditLog.open(bigDir);
const older = readFileSync(join(bigDir, 'snapshot.json'));
for (let i = 0; i < 9_999; i++) void more.append(record(i));
await more.close();
writeFileSync(join(bigDir, 'snapshot.json'), older);
t1 = performance.now();
const { log: tailed, report: tailReport } = await AuditLog.open(bigDir);
const tailOpenMs = performance.now() - t1;
if (tailReport.scanned !== 9_999) throw new Error(`expected a 9,999-record tail, read ${tailReport.scanned}`);
await tailed.close();
unlinkSync(join(bigDir, 'snapshot.json'));
t1 = performance.now();
const { log: scanned } = await AuditLog.open(bigDir);
const fullScanMs = performance.now() - t1;
await scanned.close();

// Compaction (no target): the large log's sealed segments moved to an archive file, then the live
// log verified from the base (the archived records checked by their leaf hashes).
const { log: compacting } = await AuditLog.open(bigDir, { signer, ...segmentBytes });
t1 = performance.now();
const compacted = await compacting.compact({ before: Date.now() + 60_000, archiveDir: join(base, 'archive') });
const compactMs = performance.now() - t1;
await compacting.close();
t1 = performance.now();
const fromBase = verifyLog(bigDir, { verifiers: [signer] });
const fromBaseMs = performance.now() - t1;
if (!fromBase.ok || compacted.records === 0)
  throw new Error(`compaction: ${JSON.stringify(compacted)} ${JSON.stringify(fromBase.problems[0])}`);
rmSync(base, { recursive: true, force: true });

const results = {
  fsync_floor_us: round(p50(floor)),
  fsync_floor_preallocated_us: round(p50(overwriteFloor)),
  log_append_durable_p50_us: round(p50(lat)),
  log_append_vs_fsync_ratio: round(p50(lat) / p50(floor)),
  log_append_durable_per_s: Math.round(total / seconds),
  log_records_per_fsync: round(total / fsyncs),
  log_time_in_fsync_share: Math.round(syncShare * 100) / 100,
  verify_records_per_s: Math.round(verified.records / verifySeconds),
  verify_inline_records_per_s: Math.round(verified.records / inlineSeconds),
  verify_threads: verifyThreads,
  open_records: bigTotal + 2,
  open_from_snapshot_ms: round(p50(opens)),
  open_with_10k_tail_ms: Math.round(tailOpenMs),
  open_full_scan_ms: Math.round(fullScanMs),
  compact_records: compacted.records,
  compact_records_per_s: Math.round(compacted.records / (compactMs / 1000)),
  verify_compacted_ms: Math.round(fromBaseMs),
  verify_compacted_live_records: fromBase.records - compacted.records,
};
const machine = { cores: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version, date: new Date().toISOString() };
if (json) console.log(JSON.stringify({ ...results, machine }, null, 2));
else {
  console.log(`Audit log — ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${machine.date}\n`);
  console.log(
    `fsync floor (write + fdatasync, p50)        ${results.fsync_floor_us} µs appending, ${results.fsync_floor_preallocated_us} µs over preallocated blocks`,
  );
  console.log(
    `one durable append (p50)                    ${results.log_append_durable_p50_us} µs  (${results.log_append_vs_fsync_ratio}× the floor)`,
  );
  console.log(
    `32 concurrent appenders                     ${results.log_append_durable_per_s} appends/s  (${results.log_records_per_fsync} records per fsync, ${Math.round(results.log_time_in_fsync_share * 100)}% of the time in write + fsync; target ≥ 50,000/s)`,
  );
  console.log(
    `audit verify                                ${results.verify_records_per_s} records/s (${verifyThreads ? `${verifyThreads} worker thread${verifyThreads === 1 ? '' : 's'} beside the main one` : `inline: ${round(logBytes / 2 ** 20)} MiB is below the size for workers`}), ${results.verify_inline_records_per_s}/s inline  (target ≥ 200,000/s)`,
  );
  console.log(
    `open a ${results.open_records}-record log             ${results.open_from_snapshot_ms} ms from its snapshot, ${results.open_with_10k_tail_ms} ms with the longest tail (9,999 records after it; target ≤ 300 ms); ${results.open_full_scan_ms} ms by a full scan`,
  );
  console.log(
    `audit compact                               ${results.compact_records_per_s} records/s (${results.compact_records} records archived); verify from the base ${results.verify_compacted_ms} ms (${results.verify_compacted_live_records} live records)`,
  );
}
