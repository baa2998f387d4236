// SDK benchmark: the overhead of a governed call over a plain call, through the Unix socket to a
// real daemon (target, issue: the SDK: p50 ≤ 300 µs), beside a bare govern request on the same
// socket in the same run (what the daemon itself costs).
// Usage: node bench/sdk.js [--json] [--quick]
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { createConnection } from 'node:net';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { governedTools, SocketTransport } from '../packages/sdk/dist/src/index.js';
import { applyStack, interleaved, machine, pct, timed } from './lib.js';

const json = process.argv.includes('--json');
const quick = process.argv.includes('--quick');
const round = (x) => Math.round(x * 10) / 10;

const stack = applyStack(
  'sdk',
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
const socket = join(stack.dir, 'agent.sock');

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
const syncFile = openSync(join(stack.dir, 'fsync-floor'), 'w');
const fsync = async () => {
  writeSync(syncFile, 'x'.repeat(200));
  fdatasyncSync(syncFile);
};

const n = quick ? 1000 : 10_000;
const plain = await timed(() => read({ id: 7 }), n, { unit: 1000 });
const [raw, floor] = await interleaved([bare, fsync], n, 1000);
// The governed call and the bare kept-open request, call by call, each going first every other time:
// timed in blocks, whichever block followed the fsync floor's ran slower (the disk still busy), and
// the SDK's own share read 50–200 µs where call by call it is a few.
const governed = [];
const rawKept = [];
const governedCall = () => tools['ticket/read']({ id: 7 });
for (let i = 0; i < 100; i++) {
  await governedCall();
  await bareKept();
}
for (let i = 0; i < n; i++) {
  const pair =
    i % 2 === 0
      ? [
          [governedCall, governed],
          [bareKept, rawKept],
        ]
      : [
          [bareKept, rawKept],
          [governedCall, governed],
        ];
  for (const [f, xs] of pair) {
    const t0 = performance.now();
    await f();
    xs.push((performance.now() - t0) * 1000);
  }
}
closeSync(syncFile);
kept.destroy();
stack.stop();

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
const { cpu, cores, node, date } = machine();
if (json) console.log(JSON.stringify({ ...results, machine: { cpu, cores, node, date } }, null, 2));
else {
  console.log(`SDK — ${cpu}, ${cores} cores, Node ${node}, ${date}\n`);
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
