// SDK benchmark: the overhead of a governed call over a plain call, through the Unix socket to a
// real daemon (target, issue: the SDK: p50 ≤ 300 µs), beside a bare govern request on the same
// socket in the same run (what the daemon itself costs).
// Usage: node bench/sdk.js [--json] [--quick]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
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
  for (let i = 0; i < Math.min(300, n); i++) await f();
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

const n = quick ? 1000 : 10_000;
const plain = await timed(() => read({ id: 7 }), n);
const governed = await timed(() => tools['ticket/read']({ id: 7 }), n);
const raw = await timed(bare, n);
spawnSync(process.execPath, [CLI, 'apply', '--stop', '--dir', stack]);

const results = {
  sdk_plain_call_p50_us: round(pct(plain, 0.5)),
  sdk_governed_call_p50_us: round(pct(governed, 0.5)),
  sdk_governed_call_p99_us: round(pct(governed, 0.99)),
  sdk_overhead_p50_us: round(pct(governed, 0.5) - pct(plain, 0.5)),
  sdk_bare_socket_decision_p50_us: round(pct(raw, 0.5)),
};
const machine = { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version, date: new Date().toISOString() };
if (json) console.log(JSON.stringify({ ...results, machine }, null, 2));
else {
  console.log(`SDK — ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${machine.date}\n`);
  console.log(
    `governed call over the socket (real daemon)  p50 ${results.sdk_governed_call_p50_us} µs, p99 ${results.sdk_governed_call_p99_us} µs; plain call ${results.sdk_plain_call_p50_us} µs`,
  );
  console.log(`overhead of governing                       p50 ${results.sdk_overhead_p50_us} µs (target ≤ 300 µs)`);
  console.log(`bare govern request on the same socket      p50 ${results.sdk_bare_socket_decision_p50_us} µs (the daemon's own share)`);
}
