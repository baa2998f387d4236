// Forward HTTP proxy benchmark: GET to a local upstream directly and through the daemon's proxy
// (absolute-form requests on kept-alive connections, undici), interleaved in rounds (target, issue:
// the HTTP proxy tier: added p50 ≤ 0.5 ms). The proxied request includes a durable decision.
// Usage: node bench/http-proxy.js [--json] [--quick]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const json = process.argv.includes('--json');
const quick = process.argv.includes('--quick');
const CLI = fileURLToPath(new URL('../packages/cli/bin/faramesh.js', import.meta.url));
const { Agent, ProxyAgent, request } = createRequire(new URL('../packages/cli/package.json', import.meta.url))('undici');
const pct = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const round = (x) => Math.round(x * 1000) / 1000;
const freePort = () =>
  new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });

const upstream = createHttpServer((_req, res) => res.end('ok'));
await new Promise((r) => upstream.listen(0, '127.0.0.1', r));
const target = `http://127.0.0.1:${upstream.address().port}/item`;
const stack = mkdtempSync(join(os.tmpdir(), 'fm-bench-http-'));
const port = await freePort();
writeFileSync(
  join(stack, 'governance.fms'),
  `runtime {
  wal_dir = "./wal"
  socket  = "./agent.sock"
}
agent "bench" {
  default deny
  enforcement {
    http_proxy_port = ${port}
  }
  rules {
    permit http/get
  }
  egress {
    allow = ["127.0.0.1"]
  }
}
`,
);
const applied = spawnSync(process.execPath, [CLI, 'apply', '--dir', stack], { encoding: 'utf8' });
if (applied.status !== 0) throw new Error(applied.stderr + applied.stdout);

const direct = new Agent({ keepAliveTimeout: 60_000 });
const proxied = new ProxyAgent({ uri: `http://127.0.0.1:${port}`, proxyTunnel: false, keepAliveTimeout: 60_000 });
const get = async (dispatcher) => {
  const r = await request(target, { dispatcher });
  await r.body.text();
  if (r.statusCode !== 200) throw new Error(`status ${r.statusCode}`);
};
async function timed(dispatcher, n) {
  const xs = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await get(dispatcher);
    xs.push(performance.now() - t0);
  }
  return xs;
}

const n = quick ? 1000 : 10_000;
for (const d of [direct, proxied]) await timed(d, 200);
const d = [];
const p = [];
for (let r = 0; r < 10; r++) {
  d.push(...(await timed(direct, n / 10)));
  p.push(...(await timed(proxied, n / 10)));
}
spawnSync(process.execPath, [CLI, 'apply', '--stop', '--dir', stack]);
upstream.close();
await direct.close();
await proxied.close();

const results = {
  http_direct_p50_ms: round(pct(d, 0.5)),
  http_direct_p99_ms: round(pct(d, 0.99)),
  http_proxied_p50_ms: round(pct(p, 0.5)),
  http_proxied_p99_ms: round(pct(p, 0.99)),
  http_proxy_overhead_p50_ms: round(pct(p, 0.5) - pct(d, 0.5)),
};
const machine = { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version, date: new Date().toISOString() };
if (json) console.log(JSON.stringify({ ...results, machine }, null, 2));
else {
  console.log(`HTTP proxy — ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${machine.date}\n`);
  console.log(`GET, direct (keep-alive)                        p50 ${results.http_direct_p50_ms} ms, p99 ${results.http_direct_p99_ms} ms`);
  console.log(
    `the same through the proxy (durable decision)   p50 ${results.http_proxied_p50_ms} ms, p99 ${results.http_proxied_p99_ms} ms`,
  );
  console.log(`added by the proxy                              p50 ${results.http_proxy_overhead_p50_ms} ms (target ≤ 0.5 ms)`);
}
