// Daemon benchmark: a decision over the agent socket (connect, request, engine, durable log record,
// reply, close), beside the floor of the same run — a bare Unix-socket echo with one request per
// connection. Targets (issue: the daemon): p50 ≤ 250 µs and p99 ≤ 1 ms at one client; ≥ 20,000
// decisions/s with 32 concurrent clients. The daemon runs as its own process (`faramesh serve`).
// Usage: node bench/daemon.js [--json] [--quick]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const json = process.argv.includes('--json');
const quick = process.argv.includes('--quick');
const CLI = fileURLToPath(new URL('../packages/cli/bin/faramesh.js', import.meta.url));
const base = mkdtempSync(join(os.tmpdir(), 'fm-bench-'));
const pct = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const round = (x) => Math.round(x * 10) / 10;

function call(path, line) {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    let data = '';
    s.setEncoding('utf8');
    s.on('connect', () => s.write(line));
    s.on('data', (d) => (data += d));
    s.on('error', reject);
    s.on('end', () => resolve(data));
  });
}

async function latencies(path, line, n) {
  for (let i = 0; i < Math.min(500, n); i++) await call(path, line); // warm-up
  const xs = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await call(path, line);
    xs.push((performance.now() - t0) * 1000);
  }
  return xs;
}

async function throughput(path, line, total, clients) {
  let issued = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (issued++ < total) await call(path, line);
    }),
  );
  return total / ((performance.now() - t0) / 1000);
}

// The floor: a bare server that answers one line and closes, in another process like the daemon.
const echoPath = join(base, 'echo.sock');
const echo = spawn(
  process.execPath,
  [
    '-e',
    `require('net').createServer({allowHalfOpen:true},(s)=>{s.once('data',()=>s.end('{"ok":true}\\n',()=>s.destroy()))}).listen(${JSON.stringify(echoPath)},()=>console.log('up'))`,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
await new Promise((r) => echo.stdout.once('data', r));

// The daemon, on a stack with a realistic policy.
const stack = join(base, 'stack');
spawnSync('mkdir', ['-p', stack]);
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
    permit stripe/refund if amount < $500 and currency in ["USD", "EUR"]
    deny!  stripe/payouts reason "platform team only"
  }
  redact stripe/refund args: ["card.number"]
}
`,
);
const applied = spawnSync(process.execPath, [CLI, 'apply', '--dir', stack], { encoding: 'utf8' });
if (applied.status !== 0) throw new Error(applied.stderr + applied.stdout);
const agentPath = join(stack, 'agent.sock');
const govern = `${JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'govern',
  params: { agent_id: 'bench', tool: 'stripe', operation: 'refund', args: { amount: 120, currency: 'USD', card: { number: '4242' } } },
})}\n`;
const probe = JSON.parse(await call(agentPath, govern));
if (probe.result?.effect !== 'PERMIT') throw new Error(`unexpected decision: ${JSON.stringify(probe)}`);

const n = quick ? 2000 : 20_000;
const floor = await latencies(echoPath, '{"x":1}\n', n);
const decided = await latencies(agentPath, govern, n);
const floorRate = await throughput(echoPath, '{"x":1}\n', quick ? 10_000 : 50_000, 32);
const rate = await throughput(agentPath, govern, quick ? 10_000 : 50_000, 32);

spawnSync(process.execPath, [CLI, 'apply', '--stop', '--dir', stack]);
echo.kill();
rmSync(base, { recursive: true, force: true });

const results = {
  unix_socket_rtt_p50_us: round(pct(floor, 0.5)),
  unix_socket_rtt_p99_us: round(pct(floor, 0.99)),
  socket_decide_p50_us: round(pct(decided, 0.5)),
  socket_decide_p99_us: round(pct(decided, 0.99)),
  unix_socket_echo_per_s: Math.round(floorRate),
  socket_decisions_per_s: Math.round(rate),
};
const machine = { cores: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version, date: new Date().toISOString() };
if (json) console.log(JSON.stringify({ ...results, machine }, null, 2));
else {
  console.log(`Daemon — ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${machine.date}\n`);
  console.log(
    `Unix socket echo, one request per connection (the floor)  p50 ${results.unix_socket_rtt_p50_us} µs, p99 ${results.unix_socket_rtt_p99_us} µs; ${results.unix_socket_echo_per_s}/s with 32 clients`,
  );
  console.log(
    `decision over the agent socket (durable record)           p50 ${results.socket_decide_p50_us} µs, p99 ${results.socket_decide_p99_us} µs (target ≤ 250 µs / ≤ 1 ms)`,
  );
  console.log(
    `32 concurrent clients                                      ${results.socket_decisions_per_s} decisions/s (target ≥ 20,000/s)`,
  );
}
