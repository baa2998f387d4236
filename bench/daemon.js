// Daemon benchmark: a decision over the agent socket (connect, request, engine, durable log record,
// reply, close), beside the floor of the same run — a bare Unix-socket echo with one request per
// connection. Targets (issue: the daemon): p50 ≤ 250 µs and p99 ≤ 1 ms at one client; ≥ 20,000
// decisions/s with 32 concurrent clients; cold start to READY ≤ 300 ms with a 1,000,000-record log.
// The daemon runs as its own process (`faramesh serve`).
// Usage: node bench/daemon.js [--json] [--quick]
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createConnection } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { AuditLog } from '../packages/audit/dist/src/index.js';

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

/**
 * `total` govern requests from `clients` kept-open connections (the SDK's way: one `keep_open` line,
 * then one request line at a time, answered by id); decisions per second.
 */
async function keptOpenThroughput(path, params, total, clients) {
  let issued = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      const s = createConnection(path);
      s.setEncoding('utf8');
      let buffered = '';
      let waiting;
      s.on('data', (d) => {
        buffered += d;
        const nl = buffered.indexOf('\n');
        if (nl >= 0 && waiting) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          const w = waiting;
          waiting = undefined;
          w(line);
        }
      });
      const ask = (obj) => new Promise((resolve) => ((waiting = resolve), s.write(`${JSON.stringify(obj)}\n`)));
      await ask({ jsonrpc: '2.0', id: 0, method: 'keep_open' });
      for (let id = 1; issued++ < total; id++) {
        const reply = JSON.parse(await ask({ jsonrpc: '2.0', id, method: 'govern', params }));
        if (!reply.result) throw new Error(`no decision: ${JSON.stringify(reply)}`);
      }
      s.end();
    }),
  );
  return total / ((performance.now() - t0) / 1000);
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
  wal_dir     = "./wal"
  socket      = "./agent.sock"
  http_listen = "127.0.0.1:0"
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

// POST /v1/evaluate over loopback keep-alive, beside a bare keep-alive HTTP echo server (the floor).
const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
function post(url, body) {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent: keepAlive, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (data += d));
        res.on('end', () => resolve(data));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
async function httpLatencies(url, body, count) {
  for (let i = 0; i < Math.min(500, count); i++) await post(url, body);
  const xs = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await post(url, body);
    xs.push((performance.now() - t0) * 1000);
  }
  return xs;
}
const httpEcho = spawn(
  process.execPath,
  [
    '-e',
    `const s=require('http').createServer((q,r)=>{q.resume();q.on('end',()=>r.end('{"ok":true}'))});s.keepAliveTimeout=5000;s.listen(0,'127.0.0.1',()=>console.log(s.address().port))`,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const echoPort = Number(await new Promise((r) => httpEcho.stdout.once('data', r)));
const status = JSON.parse(spawnSync(process.execPath, [CLI, 'status', '--format', 'json', '--dir', stack], { encoding: 'utf8' }).stdout);
const evaluateBody = JSON.stringify({
  agent_id: 'bench',
  tool_id: 'stripe/refund',
  args: { amount: 120, currency: 'USD', card: { number: '4242' } },
});
if (JSON.parse(await post(`${status.daemon.http}/v1/evaluate`, evaluateBody)).effect !== 'PERMIT')
  throw new Error('unexpected HTTP decision');

const n = quick ? 2000 : 20_000;
const httpFloor = await httpLatencies(`http://127.0.0.1:${echoPort}/`, evaluateBody, n);
const httpDecided = await httpLatencies(`${status.daemon.http}/v1/evaluate`, evaluateBody, n);
httpEcho.kill();
keepAlive.destroy();
const floor = await latencies(echoPath, '{"x":1}\n', n);
const decided = await latencies(agentPath, govern, n);
const floorRate = await throughput(echoPath, '{"x":1}\n', quick ? 10_000 : 50_000, 32);
const rate = await throughput(agentPath, govern, quick ? 10_000 : 50_000, 32);

// Memory: the daemon's resident set after a million decisions (quick: 100,000), every one durable.
const decisionsForRss = quick ? 100_000 : 1_000_000;
const decidedSoFar = () =>
  JSON.parse(spawnSync(process.execPath, [CLI, 'status', '--format', 'json', '--dir', stack], { encoding: 'utf8' }).stdout).decisions;
const counted = (d) => d.permit + d.deny + d.defer;
const keptOpenRate = await keptOpenThroughput(
  agentPath,
  JSON.parse(govern).params,
  Math.max(0, decisionsForRss - counted(decidedSoFar())),
  32,
);
const rssDecisions = counted(decidedSoFar());
const rssMb = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${status.daemon.pid}/status`, 'utf8'))[1]) / 1024;
const logAfterDecisions = JSON.parse(
  spawnSync(process.execPath, [CLI, 'status', '--format', 'json', '--dir', stack], { encoding: 'utf8' }).stdout,
).daemon.wal.records;

spawnSync(process.execPath, [CLI, 'apply', '--stop', '--dir', stack]);
echo.kill();

// Cold start: grow the log to a million records (decisions and their state deltas), then time
// `faramesh serve` from spawn to READY — node's own start-up included.
const logTotal = quick ? 100_000 : 1_000_000;
const wal = join(stack, 'wal');
async function grow(count) {
  const { log } = await AuditLog.open(wal);
  let i = 0;
  await Promise.all(
    Array.from({ length: 256 }, async () => {
      while (i < count) {
        const n = i++;
        await (n % 2 === 0
          ? log.append({
              type: 'decision',
              schema: 'dpr/2.0',
              agent_id: 'bench',
              tool: 'ticket/read',
              action_type: 'tool_call',
              args_hash: 'ab'.repeat(32),
              effect: 'permit',
              policy_version: 'cd'.repeat(32),
            })
          : log.append({
              type: 'state_delta',
              agent_id: 'bench',
              delta: { ops: [{ kind: 'session', key: `bench\u0000s${n % 1000}`, started_ms: 1, last_ms: n }] },
            }));
      }
    }),
  );
  const size = log.size;
  await log.close();
  return size;
}

function coldStart() {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const daemon = spawn(process.execPath, [CLI, 'serve', '--dir', stack], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    daemon.stderr.setEncoding('utf8');
    daemon.stderr.on('data', (d) => {
      err += d;
      const ready = /ready in (\d+) ms/.exec(err);
      if (!ready) return;
      const ms = performance.now() - t0;
      const replayed = Number(/state rebuilt from .*?(\d+) log records/.exec(err)?.[1]);
      daemon.stderr.removeAllListeners('data');
      daemon.off('exit', failed);
      daemon.once('exit', () => resolve({ ms, init_ms: Number(ready[1]), replayed }));
      daemon.kill('SIGTERM');
    });
    const failed = (code) => reject(new Error(`serve exited (${code}): ${err}`));
    daemon.once('exit', failed);
  });
}

// (The decisions above are already in the log: it grows to the total.)
const logSize = await grow(Math.max(0, logTotal - logAfterDecisions));
// Without the engine-state snapshot the whole log is replayed (the drain below writes a new one).
const engineSnapshot = join(stack, '.faramesh', 'state', 'engine-state.json');
rmSync(engineSnapshot, { force: true });
const fullReplay = await coldStart();
// The floor beside each start: node itself, from spawn to the exit of an empty program.
const nodeStart = () =>
  new Promise((resolve, reject) => {
    const t0 = performance.now();
    spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' })
      .once('error', reject)
      .once('exit', () => resolve(performance.now() - t0));
  });
const starts = [];
const nodeStarts = [];
for (let i = 0; i < 5; i++) {
  starts.push(await coldStart()); // after a drain: the snapshot is current
  nodeStarts.push(await nodeStart());
}
// The worst case short of a lost snapshot: a crash just before the next one is due (20,000
// records, and the log's own snapshot 10,000 behind).
const walSnapshot = join(wal, 'snapshot.json');
copyFileSync(engineSnapshot, `${engineSnapshot}.old`);
copyFileSync(walSnapshot, `${walSnapshot}.old`);
await grow(19_999);
copyFileSync(`${engineSnapshot}.old`, engineSnapshot);
copyFileSync(`${walSnapshot}.old`, walSnapshot);
const crashed = await coldStart();
rmSync(base, { recursive: true, force: true });

const results = {
  daemon_rss_mb: Math.round(rssMb * 10) / 10,
  daemon_rss_after_decisions: rssDecisions,
  socket_decisions_kept_open_per_s: Math.round(keptOpenRate),
  unix_socket_rtt_p50_us: round(pct(floor, 0.5)),
  unix_socket_rtt_p99_us: round(pct(floor, 0.99)),
  socket_decide_p50_us: round(pct(decided, 0.5)),
  socket_decide_p99_us: round(pct(decided, 0.99)),
  unix_socket_echo_per_s: Math.round(floorRate),
  socket_decisions_per_s: Math.round(rate),
  http_echo_p50_us: round(pct(httpFloor, 0.5)),
  http_evaluate_p50_us: round(pct(httpDecided, 0.5)),
  http_evaluate_p99_us: round(pct(httpDecided, 0.99)),
  http_evaluate_added_vs_socket_us: round(pct(httpDecided, 0.5) - pct(decided, 0.5)),
  cold_start_log_records: logSize,
  cold_start_ready_ms: Math.round(
    pct(
      starts.map((x) => x.ms),
      0.5,
    ),
  ),
  cold_start_init_ms: Math.round(
    pct(
      starts.map((x) => x.init_ms),
      0.5,
    ),
  ),
  node_start_floor_ms: Math.round(pct(nodeStarts, 0.5)),
  cold_start_after_crash_ms: Math.round(crashed.ms),
  cold_start_after_crash_replayed: crashed.replayed,
  cold_start_full_replay_ms: Math.round(fullReplay.ms),
  cold_start_full_replay_records: fullReplay.replayed,
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
  console.log(
    `POST /v1/evaluate, loopback keep-alive                    p50 ${results.http_evaluate_p50_us} µs, p99 ${results.http_evaluate_p99_us} µs (HTTP echo floor ${results.http_echo_p50_us} µs; ${results.http_evaluate_added_vs_socket_us} µs beside the socket; target ≤ 1 ms added)`,
  );
  console.log(`32 kept-open connections (as the SDK connects)             ${results.socket_decisions_kept_open_per_s} decisions/s`);
  console.log(`daemon resident memory after ${rssDecisions} decisions     ${results.daemon_rss_mb} MB (target ≤ 150 MB)`);
  console.log(
    `cold start to READY, ${logSize} records, from spawn        ${results.cold_start_ready_ms} ms (${results.cold_start_init_ms} ms initializing; node alone ${results.node_start_floor_ms} ms; target ≤ 300 ms)`,
  );
  console.log(
    `  after a crash, ${crashed.replayed} records past the snapshot   ${results.cold_start_after_crash_ms} ms; replaying ${fullReplay.replayed} records: ${results.cold_start_full_replay_ms} ms`,
  );
}
