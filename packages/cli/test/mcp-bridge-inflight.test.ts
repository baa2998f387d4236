/**
 * faramesh mcp <server> answers what its client asked before closing stdin: a client that writes
 * its requests and closes its end (a script, `… | faramesh mcp`) still gets every reply.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { BIN, freePort, makeStack, type Stack } from './daemon-helpers.js';

const everything = createRequire(import.meta.url).resolve('@modelcontextprotocol/server-everything/dist/index.js');
let s: Stack | undefined;
after(() => s?.cli('apply', '--stop'));

test('a call in flight when the client closes stdin is answered before the bridge exits', async () => {
  s = makeStack(`runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
}

mcp_server "everything" {
  command = ${JSON.stringify(process.execPath)}
  args    = [${JSON.stringify(everything)}, "stdio"]
}

agent "coder" {
  default deny
  enforcement {
    mcp_proxy_port = ${await freePort()}
  }
  rules {
    permit everything/trigger-long-running-operation
  }
}
`);
  assert.equal(s.cli('apply').code, 0);
  const bridge = spawn(process.execPath, [BIN, 'mcp', 'everything', '--dir', s.dir, '--agent', 'coder'], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  const exited = new Promise<number | null>((r) => bridge.once('exit', (code) => r(code)));
  let out = '';
  bridge.stdout.on('data', (d: Buffer) => (out += d.toString()));
  try {
    const send = (m: object) => bridge.stdin.write(`${JSON.stringify(m)}\n`);
    send({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'inflight-test', version: '1' } },
    });
    const deadline = Date.now() + 10_000;
    while (!out.includes('"id":0,') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 1 } },
    });
    bridge.stdin.end();
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running'), 10_000))]);
    assert.equal(code, 0);
    assert.ok(out.includes('"id":1,'), `the call's reply reached the client before the bridge exited: ${out}`);
  } finally {
    bridge.kill();
  }
});
