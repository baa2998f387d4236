// OS-tier launch benchmark: the time from spawning an agent to its first output, started plainly and
// through .faramesh/bin/agent with the full sandbox (namespaces, seccomp, Landlock, the proxy relay),
// interleaved in rounds (target, issue: the OS tier: ≤ 150 ms added). The agent is /bin/echo: its
// first instruction is as early as a process can have one, so the difference is the sandbox's.
// Usage: node bench/sandbox.js [--json] [--quick]
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { applyStack, freePort, interleaved, machine, pct } from './lib.js';

const json = process.argv.includes('--json');
const quick = process.argv.includes('--quick');
const round = (x) => Math.round(x * 100) / 100;

const stack = applyStack(
  'sandbox',
  `runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
  os_tier = true
}
agent "bench" {
  default deny
  enforcement {
    http_proxy_port = ${await freePort()}
  }
}
`,
);
const launcher = join(stack.dir, '.faramesh', 'bin', 'agent');
const env = { PATH: process.env.PATH, FARAMESH_QUIET: '1' };

/** Resolves at the first byte the process writes to stdout (and once it has exited). */
const firstOutput = (file, args) =>
  new Promise((resolve, reject) => {
    const t0 = performance.now();
    let at;
    const p = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
    p.stdout.once('data', () => (at = performance.now() - t0));
    p.once('error', reject);
    p.once('close', (code) => (code === 0 && at !== undefined ? resolve(at) : reject(new Error(`exit ${code}`))));
  });

let plainStart = [];
let sandboxStart = [];
const n = quick ? 40 : 300;
try {
  const times = [];
  const record = (i) => (t) => times[i].push(t);
  times.push([], []);
  await interleaved(
    [() => firstOutput('/bin/echo', ['ready']).then(record(0)), () => firstOutput(launcher, ['--', '/bin/echo', 'ready']).then(record(1))],
    n,
  );
  [plainStart, sandboxStart] = times;
} finally {
  stack.stop();
}

const results = {
  sandbox_plain_spawn_p50_ms: round(pct(plainStart, 0.5)),
  sandbox_launch_p50_ms: round(pct(sandboxStart, 0.5)),
  sandbox_launch_p99_ms: round(pct(sandboxStart, 0.99)),
  sandbox_launch_overhead_ms: round(pct(sandboxStart, 0.5) - pct(plainStart, 0.5)),
};
const { cpu, cores, node, date } = machine();
if (json) console.log(JSON.stringify({ ...results, machine: { cpu, cores, node, date } }, null, 2));
else {
  console.log(`OS tier — ${cpu}, ${cores} cores, Node ${node}, ${date}\n`);
  console.log(`spawn to first output, plain                    p50 ${results.sandbox_plain_spawn_p50_ms} ms`);
  console.log(
    `the same through .faramesh/bin/agent (full)     p50 ${results.sandbox_launch_p50_ms} ms, p99 ${results.sandbox_launch_p99_ms} ms`,
  );
  console.log(`added by the sandbox                            p50 ${results.sandbox_launch_overhead_ms} ms (target ≤ 150 ms)`);
}
