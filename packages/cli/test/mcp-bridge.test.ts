/**
 * faramesh mcp <server>, the stdio entry for clients that launch a command:
 * - it ends when its client closes stdin (how MCP clients end a stdio server), after answering what
 *   was asked before, and ends its proxy session, so the daemon closes that session's upstream;
 * - a client on stdio cannot initialize again, so when the proxy has lost the bridge's session (the
 *   daemon restarted, or the session sat idle), the bridge opens a new one with the client's
 *   initialize and the client's next call goes through.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { alive, BIN, freePort, makeStack, type Stack } from './daemon-helpers.js';

const everything = createRequire(import.meta.url).resolve('@modelcontextprotocol/server-everything/dist/index.js');
let s: Stack;
let pids = '';

before(async () => {
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
    permit everything/trigger-long-running-operation
  }
}
`);
  // Each upstream notes its pid, then is the everything server.
  pids = join(s.dir, 'pids');
  writeFileSync(pids, '');
  writeFileSync(
    join(s.dir, 'upstream.mjs'),
    `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(pids)}, process.pid + '\\n');\nawait import(${JSON.stringify(pathToFileURL(everything).href)});\n`,
  );
  assert.equal(s.cli('apply').code, 0);
});
after(() => s.cli('apply', '--stop'));

const upstreams = () => readFileSync(pids, 'utf8').trim().split('\n').filter(Boolean).map(Number);

/** The bridge on raw stdio: send lines, wait for the reply to an id, and how it exited. */
function bridge() {
  const child = spawn(process.execPath, [BIN, 'mcp', 'everything', '--dir', s.dir, '--agent', 'coder'], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const send = (m: object) => child.stdin.write(`${JSON.stringify(m)}\n`);
  const reply = async (id: number, ms = 10_000) => {
    const deadline = Date.now() + ms;
    while (!out.includes(`"id":${id},`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(out.includes(`"id":${id},`), `reply ${id}: ${out}`);
  };
  const initialize = async () => {
    send({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bridge-test', version: '1' } },
    });
    await reply(0);
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  };
  /** The exit code once stdin is closed, or 'still running' after `ms`. */
  const close = (ms: number) => {
    child.stdin.end();
    return Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running'), ms))]);
  };
  return { child, send, reply, initialize, close, out: () => out };
}

test('the stdio entry exits when its client closes stdin, and the upstream it used is closed', async () => {
  const b = bridge();
  try {
    const before = upstreams().length;
    await b.initialize();
    b.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { message: 'hi' } } });
    await b.reply(1);
    assert.match(b.out(), /Echo: hi/);
    const mine = upstreams().slice(before);
    assert.equal(mine.length, 1);
    assert.ok(alive(mine[0]!));
    assert.equal(await b.close(5000), 0, 'the bridge ends with its client');
    const deadline = Date.now() + 5000;
    while (alive(mine[0]!) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(alive(mine[0]!), false, "the daemon closed the bridge's upstream");
  } finally {
    b.child.kill();
  }
});

test('a call in flight when the client closes stdin is answered before the bridge exits', async () => {
  const b = bridge();
  try {
    await b.initialize();
    b.send({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 1 } },
    });
    assert.equal(await b.close(10_000), 0);
    assert.ok(b.out().includes('"id":1,'), `the call's reply reached the client before the bridge exited: ${b.out()}`);
  } finally {
    b.child.kill();
  }
});

/** The official MCP client, launching the bridge as a stdio server. */
async function bridgeClient(): Promise<Client> {
  const client = new Client({ name: 'bridge-test', version: '1.0.0' });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [BIN, 'mcp', 'everything', '--dir', s.dir, '--agent', 'coder'],
      stderr: 'ignore',
    }),
  );
  return client;
}

test('the stdio entry outlives a daemon restart: the next call opens a new session and runs', async () => {
  const client = await bridgeClient();
  try {
    const echo = async () =>
      JSON.stringify((await client.callTool({ name: 'echo', arguments: { message: 'hi' } }, undefined, { timeout: 10_000 })).content);
    assert.match(await echo(), /Echo: hi/);
    assert.equal(s.cli('apply', '--stop').code, 0);
    assert.equal(s.cli('apply').code, 0);
    assert.match(await echo(), /Echo: hi/, 'the call after the restart runs');
    assert.match(await echo(), /Echo: hi/);
    // Still governed: a tool the agent is not permitted is denied in the new session too.
    const denied = (await client.callTool({ name: 'get-env', arguments: {} })) as { isError?: boolean };
    assert.equal(denied.isError, true);
  } finally {
    await client.close();
  }
});

test('calls sent together after a daemon restart all run: none is aborted by the new session the first one opens', async () => {
  const client = await bridgeClient();
  try {
    const echo = async (message: string) =>
      JSON.stringify((await client.callTool({ name: 'echo', arguments: { message } }, undefined, { timeout: 10_000 })).content);
    assert.match(await echo('first'), /Echo: first/);
    assert.equal(s.cli('apply', '--stop').code, 0);
    assert.equal(s.cli('apply').code, 0);
    const replies = await Promise.allSettled(['a', 'b', 'c'].map(echo));
    assert.deepEqual(
      replies.map((r) => (r.status === 'fulfilled' ? r.value : String(r.reason))),
      ['a', 'b', 'c'].map((m) => JSON.stringify([{ type: 'text', text: `Echo: ${m}` }])),
    );
  } finally {
    await client.close();
  }
});

test('messages written with the initialize, before its reply, wait for the session and are answered', async () => {
  const b = bridge();
  try {
    const init = { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bridge-test', version: '1' } };
    b.child.stdin.write(
      [
        { jsonrpc: '2.0', id: 0, method: 'initialize', params: init },
        { jsonrpc: '2.0', method: 'notifications/initialized' },
        { jsonrpc: '2.0', id: 1, method: 'tools/list' },
        { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { message: 'piped' } } },
      ]
        .map((m) => `${JSON.stringify(m)}\n`)
        .join(''),
    );
    await b.reply(2);
    await b.reply(1);
    assert.match(b.out(), /Echo: piped/);
    assert.doesNotMatch(b.out(), /no MCP session|"error"/);
  } finally {
    b.child.kill();
  }
});

test('a batch is relayed message by message, each decided, and a line that is not a message is answered', async () => {
  const b = bridge();
  try {
    await b.initialize();
    // A batch, as clients of the 2025-03-26 protocol may send (the proxy over HTTP takes one too).
    b.child.stdin.write(
      `${JSON.stringify([
        { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { message: 'in a batch' } } },
        { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'get-env', arguments: {} } },
      ])}\n`,
    );
    await b.reply(1);
    await b.reply(2);
    assert.match(b.out(), /Echo: in a batch/);
    assert.match(b.out(), /"id":2,"result":\{"isError":true/, 'the denied call of the batch was denied');
    b.child.stdin.write('{not json\n');
    b.send({ jsonrpc: '2.0', id: 3.5, method: 'tools/call', params: { name: 'echo', arguments: { message: 'x' } } });
    const deadline = Date.now() + 10_000;
    while (!b.out().includes('"id":3.5,') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.match(b.out(), /"id":null,"error":\{"code":-32700/, 'a line that is not JSON is answered with a parse error');
    assert.match(b.out(), /"id":3.5,"error":\{"code":-32600/, 'a request with an id the protocol refuses is answered');
    assert.equal(await b.close(5000), 0);
  } finally {
    b.child.kill();
  }
});

test('a message over 10 MB (the proxy takes up to 16 MiB) is relayed and answered, and the bridge goes on answering', async () => {
  const b = bridge();
  try {
    await b.initialize();
    // The bridge relays it (the everything server, with its own 10 MB cap, may refuse it: either way it is answered).
    const big = 'y'.repeat(11 * 1024 * 1024);
    b.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { message: 'large', pad: big } } });
    // A longer wait for this reply alone: the everything server reads stdin with the MCP SDK's
    // ReadBuffer, which copies its whole buffer again for each 64 KiB chunk, up to its 10 MB cap
    // (about 0.8 GB copied, 4 to 8 s on a loaded two-core machine). What is ours on the way, the
    // bridge's reader above all (mcp-bridge-lines.test.ts), takes the message in linear time.
    await b.reply(1, 30_000);
    b.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { message: 'small' } } });
    await b.reply(2);
    assert.match(b.out(), /Echo: small/, 'the next call is relayed too');
    assert.equal(await b.close(5000), 0);
  } finally {
    b.child.kill();
  }
});
