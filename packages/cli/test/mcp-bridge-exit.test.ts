/**
 * faramesh mcp <server> ends when its client closes its stdin (how MCP clients end a stdio server),
 * and ends its session in the proxy, so the daemon closes the upstream it held for it at once.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BIN, freePort, makeStack, type Stack } from './daemon-helpers.js';

const everything = createRequire(import.meta.url).resolve('@modelcontextprotocol/server-everything/dist/index.js');
let s: Stack | undefined;
after(() => s?.cli('apply', '--stop'));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('the stdio entry exits when its client closes stdin, and the upstream it used is closed', async () => {
  s = makeStack(`runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
}

mcp_server "everything" {
  command = ${JSON.stringify(process.execPath)}
  args    = ["./upstream.mjs", "stdio"]
}

agent "coder" {
  default deny
  enforcement {
    mcp_proxy_port = ${await freePort()}
  }
  rules {
    permit everything/echo
  }
}
`);
  // The upstream notes its pid, then is the everything server.
  const pids = join(s.dir, 'pids');
  writeFileSync(
    join(s.dir, 'upstream.mjs'),
    `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(pids)}, process.pid + '\\n');\nawait import(${JSON.stringify(pathToFileURL(everything).href)});\n`,
  );
  assert.equal(s.cli('apply').code, 0);
  const bridge = spawn(process.execPath, [BIN, 'mcp', 'everything', '--dir', s.dir, '--agent', 'coder'], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  const exited = new Promise<number | null>((r) => bridge.once('exit', (code) => r(code)));
  let out = '';
  bridge.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const reply = async (id: number) => {
    const deadline = Date.now() + 10_000;
    while (!out.includes(`"id":${id},`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(out.includes(`"id":${id},`), `reply ${id}: ${out}`);
  };
  try {
    const send = (m: object) => bridge.stdin.write(`${JSON.stringify(m)}\n`);
    send({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'exit-test', version: '1' } },
    });
    await reply(0);
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { message: 'hi' } } });
    await reply(1);
    assert.match(out, /Echo: hi/);
    const upstream = readFileSync(pids, 'utf8').trim().split('\n').map(Number);
    assert.equal(upstream.length, 1);
    assert.ok(alive(upstream[0]!));

    bridge.stdin.end();
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running'), 5000))]);
    assert.equal(code, 0, 'the bridge ends with its client');
    const deadline = Date.now() + 5000;
    while (alive(upstream[0]!) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(alive(upstream[0]!), false, "the daemon closed the bridge's upstream");
  } finally {
    bridge.kill();
  }
});
