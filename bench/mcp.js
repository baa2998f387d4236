// MCP proxy benchmark: the same upstream (server-everything over Streamable HTTP), the same client
// and transport, called directly and through the daemon's proxy, interleaved in rounds (target,
// issue: the MCP proxy: added p50 ≤ 0.5 ms, p99 ≤ 2 ms). The proxied call includes the durable
// decision. Usage: node bench/mcp.js [--json] [--quick]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { applyStack, freePort, interleaved, machine, pct } from './lib.js';

const json = process.argv.includes('--json');
const quick = process.argv.includes('--quick');
const require = createRequire(new URL('../packages/cli/package.json', import.meta.url));
const everything = require.resolve('@modelcontextprotocol/server-everything/dist/index.js');
const round = (x) => Math.round(x * 1000) / 1000;

const upstreamPort = await freePort();
const upstream = spawn(process.execPath, [everything, 'streamableHttp'], {
  env: { ...process.env, PORT: String(upstreamPort) },
  stdio: ['ignore', 'ignore', 'pipe'],
});
// Never left behind, whatever happens next.
process.on('exit', () => upstream.kill());
await new Promise((resolve) => upstream.stderr.on('data', (d) => String(d).includes('listening') && resolve()));

const proxyPort = await freePort();
const stack = applyStack(
  'mcp',
  `runtime {
  wal_dir = "./wal"
  socket  = "./agent.sock"
}
mcp_server "everything" {
  url = "http://127.0.0.1:${upstreamPort}/mcp"
}
agent "bench" {
  default deny
  enforcement {
    mcp_proxy_port = ${proxyPort}
  }
  rules {
    permit everything/echo
  }
}
`,
);
const ports = JSON.parse(readFileSync(join(stack.dir, '.faramesh', 'runtime', 'mcp.json'), 'utf8'));

async function client(url) {
  const c = new Client({ name: 'bench', version: '1.0.0' });
  await c.connect(new StreamableHTTPClientTransport(new URL(url)));
  return c;
}
const direct = await client(`http://127.0.0.1:${upstreamPort}/mcp`);
const proxied = await client(`http://127.0.0.1:${ports.agents.bench}/mcp/everything`);
const echo = (c) => c.callTool({ name: 'echo', arguments: { message: 'hi' } });

const [d, p] = await interleaved([() => echo(direct), () => echo(proxied)], quick ? 500 : 5000);
await direct.close();
await proxied.close();
stack.stop();
upstream.kill();

const results = {
  mcp_direct_p50_ms: round(pct(d, 0.5)),
  mcp_direct_p99_ms: round(pct(d, 0.99)),
  mcp_proxied_p50_ms: round(pct(p, 0.5)),
  mcp_proxied_p99_ms: round(pct(p, 0.99)),
  mcp_overhead_p50_ms: round(pct(p, 0.5) - pct(d, 0.5)),
  mcp_overhead_p99_ms: round(pct(p, 0.99) - pct(d, 0.99)),
};
const { cpu, cores, node, date } = machine();
if (json) console.log(JSON.stringify({ ...results, machine: { cpu, cores, node, date } }, null, 2));
else {
  console.log(`MCP proxy — ${cpu}, ${cores} cores, Node ${node}, ${date}\n`);
  console.log(`tools/call echo, direct (Streamable HTTP)        p50 ${results.mcp_direct_p50_ms} ms, p99 ${results.mcp_direct_p99_ms} ms`);
  console.log(`the same through the proxy (durable decision)   p50 ${results.mcp_proxied_p50_ms} ms, p99 ${results.mcp_proxied_p99_ms} ms`);
  console.log(
    `added by the proxy                               p50 ${results.mcp_overhead_p50_ms} ms, p99 ${results.mcp_overhead_p99_ms} ms (target ≤ 0.5 ms / ≤ 2 ms)`,
  );
}
