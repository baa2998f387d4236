// SDK benchmark: the overhead of a governed call over a plain call, through the Unix socket to a
// real daemon (target, issue: the SDK: p50 ≤ 300 µs), beside a bare govern request on the same
// socket in the same run (what the daemon itself costs).
// Usage: node bench/sdk.js [--json] [--quick]
import { spawnSync } from 'node:child_process';
import { closeSync, fdatasyncSync, mkdtempSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { createConnection } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { governedTools, SocketTransport } from '../packages/sdk/dist/src/index.js';

const json = process.argv.includes('--json');
const quick = process.argv.includes('--quick');
const CLI = fileURLToPath(new URL('../packages/cli/bin/faramesh.js', import.meta.url));
const stack = mkdtempSync(join(os.tmpdir(), 'fm-bench-sdk-'));
const pct = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const round = (x) => Math.round(x * 10) / 10;

writeFileSync(
  join(stack, 'governance.fms'),
  `runtime {
  wal_dir = "./wal"
  socket  = "./agent.sock"
}
agent "bench" {
  default deny
  rules {
    permit ticket/read
  }
}
`,
);
const applied = spawnSync(process.execPath, [CLI, 'apply', '--dir', stack], { encoding: 'utf8' });
if (applied.status !== 0) throw new Error(applied.stderr + applied.stdout);
const socket = join(stack, 'agent.sock');

async function timed(f, n) {
  for (let i = 0; i < Math.min(100, n); i++) await f();
  const xs = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await f();
    xs.push((performance.now() - t0) * 1000);
  }
  return xs;
}

const read = async (a) => ({ ticket: a.id, status: 'open' });
const tools = governedTools({ 'ticket/read': read }, { agentId: 'bench', transport: new SocketTransport(socket) });
const line = `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'govern', params: { agent_id: 'bench', tool_id: 'ticket/read', args: { id: 7 } } })}\n`;
const bare = () =>
  new Promise((resolve, reject) => {
    const s = createConnection(socket);
    s.on('connect', () => s.write(line));
    s.on('data', () => {});
    s.on('error', reject);
    s.on('end', resolve);
  });

// The same request on one kept-open connection (what SocketTransport does by default).
const kept = createConnection(socket);
await new Promise((r) => kept.once('connect', r));
let keptWaiter;
let keptBuffer = '';
kept.on('data', (d) => {
  keptBuffer += d;
  const nl = keptBuffer.indexOf('\n');
  if (nl !== -1) {
    keptBuffer = keptBuffer.slice(nl + 1);
    keptWaiter?.();
  }
});
const keptCall = (text) => new Promise((r) => ((keptWaiter = r), kept.write(text)));
await keptCall(`${JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'keep_open' })}\n`);
const bareKept = () => keptCall(line);

// The disk's own floor, beside: one small write + fdatasync in the stack's directory.
const syncFile = openSync(join(stack, 'fsync-floor'), 'w');
const fsync = async () => {
  writeSync(syncFile, 'x'.repeat(200));
  fdatasyncSync(syncFile);
};

// Interleaved in rounds, so a noisy minute weighs on all three alike.
const n = quick ? 1000 : 10_000;
const plain = await timed(() => read({ id: 7 }), n);
const governed = [];
const raw = [];
const rawKept = [];
const floor = [];
for (let round = 0; round < 10; round++) {
  governed.push(...(await timed(() => tools['ticket/read']({ id: 7 }), n / 10)));
  raw.push(...(await timed(bare, n / 10)));
  rawKept.push(...(await timed(bareKept, n / 10)));
  floor.push(...(await timed(fsync, n / 10)));
}
closeSync(syncFile);
kept.destroy();
spawnSync(process.execPath, [CLI, 'apply', '--stop', '--dir', stack]);

const results = {
  sdk_plain_call_p50_us: round(pct(plain, 0.5)),
  sdk_governed_call_p50_us: round(pct(governed, 0.5)),
  sdk_governed_call_p99_us: round(pct(governed, 0.99)),
  sdk_overhead_p50_us: round(pct(governed, 0.5) - pct(plain, 0.5)),
  sdk_bare_socket_decision_p50_us: round(pct(raw, 0.5)),
  sdk_bare_kept_open_decision_p50_us: round(pct(rawKept, 0.5)),
  sdk_own_share_p50_us: round(pct(governed, 0.5) - pct(rawKept, 0.5)),
  sdk_fsync_floor_p50_us: round(pct(floor, 0.5)),
};
const machine = { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version, date: new Date().toISOString() };
if (json) console.log(JSON.stringify({ ...results, machine }, null, 2));
else {
  console.log(`SDK — ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${machine.date}\n`);
  console.log(
    `governed call over the socket (real daemon)  p50 ${results.sdk_governed_call_p50_us} µs, p99 ${results.sdk_governed_call_p99_us} µs; plain call ${results.sdk_plain_call_p50_us} µs`,
  );
  console.log(`overhead of governing                       p50 ${results.sdk_overhead_p50_us} µs (target ≤ 300 µs)`);
  console.log(`bare govern request, its own connection      p50 ${results.sdk_bare_socket_decision_p50_us} µs`);
  console.log(
    `bare govern request, one kept-open connection p50 ${results.sdk_bare_kept_open_decision_p50_us} µs (the daemon's share: a durable decision)`,
  );
  console.log(`the SDK's own share (governed − kept-open)  p50 ${results.sdk_own_share_p50_us} µs`);
  console.log(`the disk's fsync floor, same directory      p50 ${results.sdk_fsync_floor_p50_us} µs (every decision waits for one)`);
}
