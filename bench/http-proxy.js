// HTTP proxy benchmark: GET to a local upstream directly, through the daemon's forward proxy
// (absolute-form requests on kept-alive connections, undici), through it with a Vault KV credential
// injected (cached by the broker, as after the first call), and through the reverse proxy
// (http_listen → http_upstream, a route-map tool), interleaved in rounds. Targets (issue: the HTTP
// proxy tier): added p50 ≤ 0.5 ms; a cached credential adds ≤ 0.1 ms. Every proxied request includes
// a durable decision.
// Usage: node bench/http-proxy.js [--json] [--quick]
import { createServer as createHttpServer } from 'node:http';
import { createRequire } from 'node:module';
import { applyStack, freePort, interleaved, machine, pct } from './lib.js';
import { FakeVault } from '../packages/cli/dist/test/fake-vault.js';

const json = process.argv.includes('--json');
const quick = process.argv.includes('--quick');
const { Agent, ProxyAgent, request } = createRequire(new URL('../packages/cli/package.json', import.meta.url))('undici');
const round = (x) => Math.round(x * 1000) / 1000;

const upstream = createHttpServer((_req, res) => res.end('ok'));
await new Promise((r) => upstream.listen(0, '127.0.0.1', r));
const upstreamUrl = `http://127.0.0.1:${upstream.address().port}`;
const target = `${upstreamUrl}/item`;
const vault = new FakeVault();
await vault.start();
vault.kv.set('kv/bench/key', { value: 'bench-secret' });
const [port, credPort, listen] = [await freePort(), await freePort(), await freePort()];
const stack = applyStack(
  'http',
  `runtime {
  wal_dir       = "./wal"
  socket        = "./agent.sock"
  http_listen   = "127.0.0.1:${listen}"
  http_upstream = "${upstreamUrl}"
  http_routes   = { "GET /item" = "get_item" }
  http_agent    = "bench"
}
provider "vault" {
  type  = "vault"
  addr  = env("VAULT_ADDR")
  token = env("VAULT_TOKEN")
  mount = "kv"
}
agent "bench" {
  default deny
  enforcement {
    http_proxy_port = ${port}
  }
  rules {
    permit http/get
    permit get_item
  }
  egress {
    allow = ["127.0.0.1"]
  }
}
agent "cred" {
  default deny
  enforcement {
    http_proxy_port = ${credPort}
  }
  rules {
    permit http/get
  }
  egress {
    allow = ["127.0.0.1"]
  }
  credential "key" {
    provider = "vault"
    path     = "bench/key"
    header   = "X-Api-Key"
    tools    = ["http/get"]
  }
}
`,
  { ...process.env, VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.root },
);

const direct = new Agent({ keepAliveTimeout: 60_000 });
const proxied = new ProxyAgent({ uri: `http://127.0.0.1:${port}`, proxyTunnel: false, keepAliveTimeout: 60_000 });
const withCredential = new ProxyAgent({ uri: `http://127.0.0.1:${credPort}`, proxyTunnel: false, keepAliveTimeout: 60_000 });
const get = async (dispatcher, url = target) => {
  const r = await request(url, { dispatcher });
  await r.body.text();
  if (r.statusCode !== 200) throw new Error(`status ${r.statusCode}`);
};
const n = quick ? 1000 : 10_000;
const [d, p, c, rev] = await interleaved(
  [() => get(direct), () => get(proxied), () => get(withCredential), () => get(direct, `http://127.0.0.1:${listen}/item`)],
  n,
);
stack.stop();
upstream.close();
vault.stop();
await Promise.all([direct.close(), proxied.close(), withCredential.close()]);

const results = {
  http_direct_p50_ms: round(pct(d, 0.5)),
  http_direct_p99_ms: round(pct(d, 0.99)),
  http_proxied_p50_ms: round(pct(p, 0.5)),
  http_proxied_p99_ms: round(pct(p, 0.99)),
  http_proxy_overhead_p50_ms: round(pct(p, 0.5) - pct(d, 0.5)),
  http_credential_cached_p50_ms: round(pct(c, 0.5)),
  http_credential_cached_added_p50_ms: round(pct(c, 0.5) - pct(p, 0.5)),
  http_reverse_p50_ms: round(pct(rev, 0.5)),
  http_reverse_p99_ms: round(pct(rev, 0.99)),
  http_reverse_overhead_p50_ms: round(pct(rev, 0.5) - pct(d, 0.5)),
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
  console.log(`through the proxy, a cached credential injected p50 ${results.http_credential_cached_p50_ms} ms`);
  console.log(`added by the cached credential                  p50 ${results.http_credential_cached_added_p50_ms} ms (target ≤ 0.1 ms)`);
  console.log(
    `through the reverse proxy (route-map tool)      p50 ${results.http_reverse_p50_ms} ms, p99 ${results.http_reverse_p99_ms} ms`,
  );
  console.log(`added by the reverse proxy                      p50 ${results.http_reverse_overhead_p50_ms} ms`);
}
