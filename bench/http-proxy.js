// Forward HTTP proxy benchmark: GET to a local upstream directly and through the daemon's proxy
// (absolute-form requests on kept-alive connections, undici), interleaved in rounds (target, issue:
// the HTTP proxy tier: added p50 ≤ 0.5 ms). The proxied request includes a durable decision.
// Usage: node bench/http-proxy.js [--json] [--quick]
import { createServer as createHttpServer } from 'node:http';
import { createRequire } from 'node:module';
import { applyStack, freePort, interleaved, machine, pct } from './lib.js';

const json = process.argv.includes('--json');
const quick = process.argv.includes('--quick');
const { Agent, ProxyAgent, request } = createRequire(new URL('../packages/cli/package.json', import.meta.url))('undici');
const round = (x) => Math.round(x * 1000) / 1000;

const upstream = createHttpServer((_req, res) => res.end('ok'));
await new Promise((r) => upstream.listen(0, '127.0.0.1', r));
const target = `http://127.0.0.1:${upstream.address().port}/item`;
const port = await freePort();
const stack = applyStack(
  'http',
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

const direct = new Agent({ keepAliveTimeout: 60_000 });
const proxied = new ProxyAgent({ uri: `http://127.0.0.1:${port}`, proxyTunnel: false, keepAliveTimeout: 60_000 });
const get = async (dispatcher) => {
  const r = await request(target, { dispatcher });
  await r.body.text();
  if (r.statusCode !== 200) throw new Error(`status ${r.statusCode}`);
};
const n = quick ? 1000 : 10_000;
const [d, p] = await interleaved([() => get(direct), () => get(proxied)], n);
stack.stop();
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
const { cpu, cores, node, date } = machine();
if (json) console.log(JSON.stringify({ ...results, machine: { cpu, cores, node, date } }, null, 2));
else {
  console.log(`HTTP proxy — ${cpu}, ${cores} cores, Node ${node}, ${date}\n`);
  console.log(`GET, direct (keep-alive)                        p50 ${results.http_direct_p50_ms} ms, p99 ${results.http_direct_p99_ms} ms`);
  console.log(
    `the same through the proxy (durable decision)   p50 ${results.http_proxied_p50_ms} ms, p99 ${results.http_proxied_p99_ms} ms`,
  );
  console.log(`added by the proxy                              p50 ${results.http_proxy_overhead_p50_ms} ms (target ≤ 0.5 ms)`);
}
