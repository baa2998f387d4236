/**
 * The MCP proxy with the official MCP client and real servers from npm (server-everything and
 * server-filesystem on a temp dir), over Streamable HTTP: filtered lists, permit, deny (the
 * upstream never sees the call), defer → approve → once, conditions on arguments, large results,
 * passthrough records and RUNTIME_GAP, an upstream that crashes, and agent identity on each port.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import {
  CreateTaskResultSchema,
  GetTaskResultSchema,
  McpError,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { appliedStack, BIN, freePort, type Stack, until } from './daemon-helpers.js';

const require = createRequire(import.meta.url);
const everything = require.resolve('@modelcontextprotocol/server-everything/dist/index.js');
const filesystem = require.resolve('@modelcontextprotocol/server-filesystem/dist/index.js');
const growing = fileURLToPath(new URL('../../test/fixtures/mcp-growing-server.mjs', import.meta.url));
const jobs = fileURLToPath(new URL('../../test/fixtures/mcp-task-server.mjs', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'fm-mcp-work-'));
const growingLog = join(work, 'growing-received.log');
writeFileSync(join(work, 'notes.txt'), 'hello from the work dir\n');
writeFileSync(join(work, 'big.txt'), 'x'.repeat(3 << 20));

const policy = (shared: number, own: number) => `runtime {
  wal_dir        = "./wal"
  socket         = "./.faramesh/runtime/agent.sock"
  mcp_proxy_port = ${shared}
}

mcp_server "everything" {
  command = ${JSON.stringify(process.execPath)}
  args    = [${JSON.stringify(everything)}, "stdio"]
}

mcp_server "files" {
  command = ${JSON.stringify(process.execPath)}
  args    = [${JSON.stringify(filesystem)}, ${JSON.stringify(work)}]
}

mcp_server "growing" {
  command = ${JSON.stringify(process.execPath)}
  args    = [${JSON.stringify(growing)}]
  env     = { MCP_LOG = ${JSON.stringify(growingLog)} }
}

mcp_server "jobs" {
  command = ${JSON.stringify(process.execPath)}
  args    = [${JSON.stringify(jobs)}]
}

agent "coder" {
  default deny
  enforcement {
    mcp_proxy_port = ${own}
  }
  rules {
    permit everything/echo
    permit everything/get-sum if a < 100
    permit everything/trigger-long-running-operation
    permit files/read_text_file
    permit files/list_directory
    defer  files/write_file reason "writes need a human"
    deny   files/move_file reason "no moving files"
    permit growing/unlock
    permit growing/read_report
    permit everything/simulate-research-query
    permit jobs/export
    permit jobs/acks
  }
  completion_gate {
    require "no_uncommitted_writes"
  }
}

agent "reader" {
  default deny
  rules {
    permit files/list_directory
  }
}
`;

let s: Stack;
let source: string;
let ports: { shared: number; agents: Record<string, number> };

before(async () => {
  source = policy(await freePort(), await freePort());
  s = appliedStack(source);
  ports = JSON.parse(readFileSync(join(s.dir, '.faramesh', 'runtime', 'mcp.json'), 'utf8')) as typeof ports;
});
after(() => s.cli('apply', '--stop'));

async function connect(server: string, opts: { port?: number; token?: string } = {}): Promise<Client> {
  const url = new URL(`http://127.0.0.1:${opts.port ?? ports.agents.coder}/mcp/${server}`);
  const transport = new StreamableHTTPClientTransport(
    url,
    opts.token ? { requestInit: { headers: { authorization: `Bearer ${opts.token}` } } } : {},
  );
  const client = new Client({ name: 'test-host', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

interface Denial {
  denied: boolean;
  effect: string;
  code: string;
  message: string;
  approval_id?: string;
}
/** The structured denial: in structuredContent, or in `_meta` for a tool listed with an outputSchema (never both). */
const denialOf = (r: object) => {
  const result = r as { structuredContent?: unknown; isError?: unknown; _meta?: Record<string, unknown> };
  assert.equal(result.isError, true, JSON.stringify(r));
  const meta = result._meta?.['faramesh/denial'];
  assert.ok((result.structuredContent === undefined) !== (meta === undefined), JSON.stringify(r));
  return (result.structuredContent ?? meta) as Denial;
};

test('tools/list shows only what this agent could ever be permitted or deferred', async () => {
  const files = await connect('files');
  try {
    const names = (await files.listTools()).tools.map((t) => t.name).sort();
    assert.deepEqual(names, ['list_directory', 'read_text_file', 'write_file']);
  } finally {
    await files.close();
  }
  const ev = await connect('everything');
  try {
    assert.deepEqual((await ev.listTools()).tools.map((t) => t.name).sort(), [
      'echo',
      'get-sum',
      'simulate-research-query',
      'trigger-long-running-operation',
    ]);
  } finally {
    await ev.close();
  }
});

test('permit forwards; deny and defer answer with a CallToolResult and the upstream never sees the call; conditions read the arguments', async () => {
  const files = await connect('files');
  const ev = await connect('everything');
  try {
    const read = await files.callTool({ name: 'read_text_file', arguments: { path: join(work, 'notes.txt') } });
    assert.match(JSON.stringify(read.content), /hello from the work dir/);
    const moved = denialOf(
      await files.callTool({ name: 'move_file', arguments: { source: join(work, 'notes.txt'), destination: join(work, 'gone.txt') } }),
    );
    assert.equal(moved.code, 'POLICY_DENY');
    assert.equal(moved.message, 'no moving files');
    assert.ok(existsSync(join(work, 'notes.txt')) && !existsSync(join(work, 'gone.txt')), 'the upstream never moved the file');
    assert.equal(denialOf(await files.callTool({ name: 'delete_everything', arguments: {} })).code, 'POLICY_DENY');

    assert.match(JSON.stringify((await ev.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } })).content), /5/);
    assert.equal(denialOf(await ev.callTool({ name: 'get-sum', arguments: { a: 500, b: 3 } })).code, 'POLICY_DENY');
    assert.match(JSON.stringify((await ev.callTool({ name: 'echo', arguments: { message: 'hi' } })).content), /hi/);
    // Arguments hiding a __proto__ key are refused before any decision, relayed upstream or not.
    for (const client of [files, ev]) {
      const hidden = JSON.parse('{"message":"hi","opts":{"__proto__":{"x":1}}}') as Record<string, unknown>;
      const e = await client.callTool({ name: 'echo', arguments: hidden }).catch((err: Error) => err);
      assert.ok(e instanceof Error && /-32602.*arguments\.opts\.__proto__ is a key named __proto__/.test(e.message), String(e));
    }
    // So are keys that differ only in letter case: a lenient upstream (Go's encoding/json) could bind either.
    for (const client of [files, ev]) {
      const e = await client.callTool({ name: 'echo', arguments: { message: 'hi', Message: 'other' } }).catch((err: Error) => err);
      assert.ok(e instanceof Error && /-32602.*arguments has keys 'message' and 'Message'/.test(e.message), String(e));
    }
  } finally {
    await files.close();
    await ev.close();
  }
});

test('defer → approved from the CLI → the identical call runs once', async () => {
  const files = await connect('files');
  try {
    const target = join(work, 'approved.txt');
    const call = { name: 'write_file', arguments: { path: target, content: 'written after approval' } };
    const deferred = denialOf(await files.callTool(call));
    assert.equal(deferred.effect, 'DEFER');
    assert.match(String(deferred.approval_id), /^apr-/);
    assert.equal(existsSync(target), false);
    assert.equal(s.cli('approvals', 'approve', deferred.approval_id!, '--reason', 'fine').code, 0);
    const ran = await files.callTool(call);
    assert.notEqual(ran.isError, true, JSON.stringify(ran));
    assert.equal(readFileSync(target, 'utf8'), 'written after approval');
    assert.equal(denialOf(await files.callTool(call)).effect, 'DEFER', 'approved once, not for good');
  } finally {
    await files.close();
  }
});

test('large results stream through intact', async () => {
  const files = await connect('files');
  try {
    const big = await files.callTool({ name: 'read_text_file', arguments: { path: join(work, 'big.txt') } });
    assert.equal((big.content as { text: string }[])[0]!.text.length, 3 << 20);
  } finally {
    await files.close();
  }
});

test('resources and prompts pass through and are recorded; every decision is one record', async () => {
  const ev = await connect('everything');
  try {
    const resources = await ev.listResources();
    assert.ok(resources.resources.length > 0);
    const first = resources.resources[0]!;
    const read = await ev.readResource({ uri: first.uri });
    assert.ok(read.contents.length > 0);
    assert.ok((await ev.listPrompts()).prompts.length > 0);
    // A method no MCP version defines: forwarded (the upstream refuses it) and recorded as a gap.
    await assert.rejects(
      () => ev.request({ method: 'vendor/frobnicate', params: {} }, z.object({}).passthrough()),
      /not found|frobnicate/i,
    );
  } finally {
    await ev.close();
  }
  const records = s
    .cli('audit', 'tail', '--format', 'json', '--no-follow', '--limit', '500')
    .stdout.trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(
    records.some((r) => r.type === 'mcp_traffic' && r.method === 'resources/read' && r.server === 'everything' && r.agent_id === 'coder'),
  );
  assert.ok(records.some((r) => r.type === 'mcp_traffic' && r.method === 'vendor/frobnicate' && r.code === 'RUNTIME_GAP'));
  const verified = s.cli('audit', 'verify');
  assert.equal(verified.code, 0, `the log with its MCP records verifies: ${verified.stdout}${verified.stderr}`);
  const sums = records.filter((r) => r.type === 'decision' && r.tool === 'everything/get-sum');
  assert.equal(sums.length, 2, 'one record per decision');
  // One client session is one run: its calls share a request id, and explain run follows it.
  const runs = [...new Set(sums.map((r) => r.request_id))];
  assert.equal(runs.length, 1);
  assert.match(String(runs[0]), /^mcp-[0-9a-f-]{36}$/);
  const run = s.cli('explain', 'run', String(runs[0]));
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /permit {2}everything\/get-sum[^\n]*\n[^\n]*deny {4}everything\/get-sum/);
});

test('the shared port needs an agent token; a token speaks for its agent; a session cannot change hands', async () => {
  await assert.rejects(() => connect('files', { port: ports.shared }), /401|agent token/);
  const issued = s.cli('token', 'issue', '--agent', 'reader', '--name', 'reader-mcp');
  assert.equal(issued.code, 0, issued.stderr);
  const token = issued.stdout.trim();
  const reader = await connect('files', { port: ports.shared, token });
  try {
    assert.deepEqual(
      (await reader.listTools()).tools.map((t) => t.name),
      ['list_directory'],
    );
    assert.equal(
      denialOf(await reader.callTool({ name: 'read_text_file', arguments: { path: join(work, 'notes.txt') } })).code,
      'POLICY_DENY',
    );
  } finally {
    await reader.close();
  }
});

test('an upstream that crashes is restarted; the call in flight gets a clear error, and later calls work', async () => {
  const ev = await connect('everything');
  try {
    assert.match(JSON.stringify((await ev.callTool({ name: 'echo', arguments: { message: 'before' } })).content), /before/);
    // The upstream dies (killed from outside, found by its arguments) while a call is in flight. Only
    // this daemon's child: other test files run their own server-everything at the same time.
    const inFlight = ev.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 30, steps: 3 } }).catch((e: Error) => e);
    await new Promise((res) => setTimeout(res, 300));
    const pids = spawnSync('pgrep', ['-P', String(s.pid()), '-f', `${everything} stdio`], { encoding: 'utf8' })
      .stdout.trim()
      .split('\n')
      .filter(Boolean);
    assert.ok(pids.length > 0, 'the upstream runs');
    for (const pid of pids) process.kill(Number(pid), 'SIGKILL');
    const lost = await inFlight;
    assert.ok(lost instanceof Error, 'the call in flight is answered, not left hanging');
    assert.match(lost.message, /everything' exited while this request was in flight/);
    let recovered = false;
    for (let i = 0; i < 50 && !recovered; i++) {
      const r = await ev.callTool({ name: 'echo', arguments: { message: 'again' } }).catch((e: Error) => e);
      if (r instanceof Error) assert.match(r.message, /everything|exited|restart|not connected/);
      else recovered = JSON.stringify(r.content).includes('again');
      if (!recovered) await new Promise((res) => setTimeout(res, 100));
    }
    assert.ok(recovered, 'the restarted upstream serves the session');
  } finally {
    await ev.close();
  }
});

test('faramesh mcp <server>: the stdio entry relays to the proxy, governed the same way', async () => {
  const client = new Client({ name: 'stdio-host', version: '1.0.0' });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [BIN, 'mcp', 'files', '--dir', s.dir, '--agent', 'coder'],
      stderr: 'pipe',
    }),
  );
  try {
    assert.deepEqual((await client.listTools()).tools.map((t) => t.name).sort(), ['list_directory', 'read_text_file', 'write_file']);
    const listed = await client.callTool({ name: 'list_directory', arguments: { path: work } });
    assert.match(JSON.stringify(listed.content), /notes\.txt/);
    assert.equal(denialOf(await client.callTool({ name: 'move_file', arguments: { source: 'a', destination: 'b' } })).code, 'POLICY_DENY');
  } finally {
    await client.close();
  }
  // Without an agent of its own port or a token, it says what is missing.
  const r = spawnSync(process.execPath, [BIN, 'mcp', 'files', '--dir', s.dir, '--agent', 'reader'], { encoding: 'utf8', input: '' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /FARAMESH_TOKEN/);
});

test('notifications/tools/list_changed is forwarded, and the new list is filtered too', async () => {
  const client = await connect('growing');
  try {
    assert.deepEqual(
      (await client.listTools()).tools.map((t) => t.name),
      ['unlock'],
    );
    const changed = new Promise<void>((resolve) => client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()));
    await client.callTool({ name: 'unlock', arguments: {} });
    await changed;
    assert.deepEqual((await client.listTools()).tools.map((t) => t.name).sort(), ['read_report', 'unlock'], 'wipe_reports stays hidden');
  } finally {
    await client.close();
  }
});

test('a request sent as a notification (no id), tools/call included, never reaches the upstream: dropped and recorded as a gap', async () => {
  const client = await connect('growing');
  try {
    await client.notification({ method: 'tools/call', params: { name: 'wipe_reports', arguments: {} } } as never);
    // A request after it, on the same session: the upstream reads its messages in order.
    await client.listTools();
    await until(
      'the next request reached the upstream',
      () => existsSync(growingLog) && /tools\/list/.test(readFileSync(growingLog, 'utf8')),
    );
    assert.doesNotMatch(readFileSync(growingLog, 'utf8'), /tools\/call \(no id\)/);
    await until('the gap record', () =>
      s
        .cli('audit', 'tail', '--format', 'json', '--no-follow', '--limit', '20')
        .stdout.split('\n')
        .some((l) => /"method":"tools\/call"/.test(l) && /"code":"RUNTIME_GAP"/.test(l) && /"type":"mcp_traffic"/.test(l)),
    );
  } finally {
    await client.close();
  }
});

test('legacy SSE: /mcp/<name>/sse and its messages endpoint, governed the same way', async () => {
  const client = new Client({ name: 'sse-host', version: '1.0.0' });
  await client.connect(new SSEClientTransport(new URL(`http://127.0.0.1:${ports.agents.coder}/mcp/files/sse`)));
  try {
    assert.deepEqual((await client.listTools()).tools.map((t) => t.name).sort(), ['list_directory', 'read_text_file', 'write_file']);
    assert.match(
      JSON.stringify((await client.callTool({ name: 'read_text_file', arguments: { path: join(work, 'notes.txt') } })).content),
      /hello/,
    );
    assert.equal(denialOf(await client.callTool({ name: 'move_file', arguments: { source: 'a', destination: 'b' } })).code, 'POLICY_DENY');
  } finally {
    await client.close();
  }
});

test('a body that is not JSON is a parse error, on the Streamable HTTP and the legacy SSE endpoints alike', async () => {
  const base = `http://127.0.0.1:${ports.agents.coder}`;
  const post = (path: string) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: '{"jsonrpc": "2.0", "id": 1, "method": ',
    });
  const parseError = async (res: Response) => {
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: { code: number } }).error.code, -32700);
  };
  await parseError(await post('/mcp/files'));
  const stream = new AbortController();
  const sse = await fetch(`${base}/mcp/files/sse`, { headers: { accept: 'text/event-stream' }, signal: stream.signal });
  const reader = sse.body!.getReader();
  let text = '';
  while (!/data: (\S+)/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
  const endpoint = /data: (\S+)/.exec(text)![1]!;
  await parseError(await post(endpoint.startsWith('http') ? new URL(endpoint).pathname + new URL(endpoint).search : endpoint));
  stream.abort();
});

test('MCP tasks: a running task blocks the completion gate until it ends; a task its session outlives is a RUNTIME_GAP', async () => {
  const ev = await connect('everything');
  const Completion = z.object({
    completed: z.boolean(),
    structured_denial: z.object({ code: z.string(), human_message: z.string() }).optional(),
  });
  const complete = () => ev.request({ method: 'faramesh/tasks/complete', params: {} }, Completion);
  try {
    assert.equal((await complete()).completed, true, 'nothing running');
    const started = await ev.request(
      { method: 'tools/call', params: { name: 'simulate-research-query', arguments: { topic: 'governance' }, task: { ttl: 60_000 } } },
      CreateTaskResultSchema,
    );
    const taskId = started.task.taskId;
    const blocked = await complete();
    assert.equal(blocked.completed, false);
    assert.equal(blocked.structured_denial?.code, 'COMPLETION_BLOCKED');
    assert.match(blocked.structured_denial!.human_message, new RegExp(`1 task still running \\(everything/${taskId}\\)`));
    let status = 'working';
    for (let i = 0; i < 100 && status !== 'completed'; i++) {
      await new Promise((r) => setTimeout(r, 200));
      status = (await ev.request({ method: 'tasks/get', params: { taskId } }, GetTaskResultSchema)).status;
    }
    assert.equal(status, 'completed');
    assert.equal((await complete()).completed, true, 'the task ended');

    // A task whose session ends before it does can never report its end: a gap.
    const short = await ev.request(
      { method: 'tools/call', params: { name: 'simulate-research-query', arguments: { topic: 'gap' }, task: { ttl: 60_000 } } },
      CreateTaskResultSchema,
    );
    await (ev.transport as StreamableHTTPClientTransport).terminateSession();
    await new Promise((r) => setTimeout(r, 300));
    const records = s
      .cli('audit', 'tail', '--format', 'json', '--no-follow', '--limit', '500')
      .stdout.trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((r) => r.type === 'mcp_task');
    assert.deepEqual(
      records.filter((r) => r.task_id === taskId).map((r) => r.status),
      ['working', 'completed'],
    );
    const gap = records.filter((r) => r.task_id === short.task.taskId).map((r) => [r.status, r.code]);
    assert.deepEqual(gap, [
      ['working', undefined],
      ['abandoned', 'RUNTIME_GAP'],
    ]);
    const verified = s.cli('audit', 'verify');
    assert.equal(verified.code, 0, `mcp_task records verify: ${verified.stdout}${verified.stderr}`);
  } finally {
    await ev.close();
  }
});

test('faramesh/tasks/complete from an upstream, as a notification or a request, ends its task for the completion gate', async () => {
  const client = await connect('jobs');
  const Completion = z.object({ completed: z.boolean() });
  const complete = () => client.request({ method: 'faramesh/tasks/complete', params: {} }, Completion);
  try {
    const started = await client.request(
      { method: 'tools/call', params: { name: 'export', arguments: {}, task: { ttl: 60_000 } } },
      CreateTaskResultSchema,
    );
    assert.equal(started.task.taskId, 'job-1');
    assert.equal((await complete()).completed, false);
    let done = false;
    for (let i = 0; i < 50 && !done; i++) {
      await new Promise((r) => setTimeout(r, 100));
      done = (await complete()).completed;
    }
    assert.ok(done, 'the upstream reported the end, and the gate opened');

    // The same report sent as a request: the proxy answers it, and the gate opens as well.
    const asked = await client.request(
      { method: 'tools/call', params: { name: 'export', arguments: { ack: true }, task: { ttl: 60_000 } } },
      CreateTaskResultSchema,
    );
    assert.equal(asked.task.taskId, 'job-2');
    assert.equal((await complete()).completed, false);
    done = false;
    for (let i = 0; i < 50 && !done; i++) {
      await new Promise((r) => setTimeout(r, 100));
      done = (await complete()).completed;
    }
    assert.ok(done, 'the request form ended the task too');
    const acks = (await client.callTool({ name: 'acks', arguments: {} })) as { content: { text: string }[] };
    assert.equal(acks.content[0]!.text, '1', 'the upstream got its answer');
  } finally {
    await client.close();
  }
});

test('runtime { mcp_deny_as_error = true }: a denial is a JSON-RPC error carrying the structured denial (hot-swapped, live sessions too)', async () => {
  const files = await connect('files');
  try {
    writeFileSync(join(s.dir, 'governance.fms'), source.replace('mcp_proxy_port =', 'mcp_deny_as_error = true\n  mcp_proxy_port ='));
    assert.equal(s.cli('apply').code, 0);
    const e = await files.callTool({ name: 'move_file', arguments: { source: 'a', destination: 'b' } }).catch((x: unknown) => x);
    assert.ok(e instanceof McpError, String(e));
    assert.equal(e.code, -32003);
    assert.match(e.message, /no moving files \(POLICY_DENY\)/);
    assert.equal((e.data as Denial).code, 'POLICY_DENY');
  } finally {
    await files.close();
    writeFileSync(join(s.dir, 'governance.fms'), source);
    assert.equal(s.cli('apply').code, 0);
  }
});

test('an apply that changes an mcp_server ends the sessions opened on the old one (others go on)', async () => {
  const everythingSession = await connect('everything');
  const files = await connect('files');
  try {
    assert.equal(
      ((await everythingSession.callTool({ name: 'echo', arguments: { message: 'before' } })) as { isError?: boolean }).isError,
      undefined,
    );
    const changed = source.replace(
      `args    = [${JSON.stringify(everything)}, "stdio"]`,
      `args    = [${JSON.stringify(everything)}, "stdio"]\n  env     = { FM_CHANGED = "1" }`,
    );
    assert.notEqual(changed, source);
    writeFileSync(join(s.dir, 'governance.fms'), changed);
    assert.equal(s.cli('apply').code, 0);
    // The old session would still reach the server as it was: it is ended, and the client told to start again.
    const e = await everythingSession.callTool({ name: 'echo', arguments: { message: 'after' } }).catch((x: unknown) => x);
    assert.ok(e instanceof Error && /changed at the last apply: initialize again/.test(e.message), String(e));
    assert.equal((e as { code?: unknown }).code, 404);
    const again = await connect('everything');
    const echoed = (await again.callTool({ name: 'echo', arguments: { message: 'anew' } })) as { content: { text: string }[] };
    assert.match(echoed.content[0]!.text, /anew/);
    await again.close();
    // A server the apply left as it was keeps its sessions.
    const listed = (await files.callTool({ name: 'list_directory', arguments: { path: work } })) as { isError?: boolean };
    assert.notEqual(listed.isError, true);
    // A server removed ends its sessions: put back as it was, it does not revive them.
    const jobsSession = await connect('jobs');
    writeFileSync(join(s.dir, 'governance.fms'), changed.replace(/mcp_server "jobs" \{[^}]*\}/, ''));
    assert.equal(s.cli('apply').code, 0);
    const gone = await jobsSession.callTool({ name: 'acks', arguments: {} }).catch((x: unknown) => x);
    assert.ok(gone instanceof Error && /no mcp_server \\?"jobs/.test(gone.message), String(gone));
    writeFileSync(join(s.dir, 'governance.fms'), changed);
    assert.equal(s.cli('apply').code, 0);
    const revived = await jobsSession.callTool({ name: 'acks', arguments: {} }).catch((x: unknown) => x);
    assert.ok(revived instanceof Error && /no such MCP session/.test(revived.message), String(revived));
    await jobsSession.close().catch(() => {});
  } finally {
    await everythingSession.close().catch(() => {});
    await files.close();
    writeFileSync(join(s.dir, 'governance.fms'), source);
    assert.equal(s.cli('apply').code, 0);
  }
});

test('a client that disconnects mid-call: the call still finishes upstream, and the proxy serves the next session', async () => {
  const url = `http://127.0.0.1:${ports.agents.coder}/mcp/everything`;
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const init = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    }),
  });
  const session = init.headers.get('mcp-session-id')!;
  await init.text();
  const abort = new AbortController();
  const call = fetch(url, {
    method: 'POST',
    headers: { ...headers, 'mcp-session-id': session },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 2 } },
    }),
    signal: abort.signal,
  });
  // The reply stream has begun (the call is running upstream); the client goes away.
  assert.equal((await call).status, 200);
  await new Promise((r) => setTimeout(r, 200));
  abort.abort();
  await new Promise((r) => setTimeout(r, 1200));
  const next = await connect('everything');
  try {
    assert.match(JSON.stringify((await next.callTool({ name: 'echo', arguments: { message: 'still here' } })).content), /still here/);
  } finally {
    await next.close();
  }
  assert.equal(s.cli('status').code, 0, 'the daemon is healthy');
});

// Last: it stops the daemon.
test('draining: a proxied call in flight is answered before the daemon stops; new requests are refused meanwhile', async () => {
  const ev = await connect('everything');
  const running = ev.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 4, steps: 2 } });
  await new Promise((r) => setTimeout(r, 300));
  const stopping = s.cliAsync('apply', '--stop');
  // Once the daemon is draining, no new session is taken.
  await until('draining', async () => (await s.cliAsync('status')).code === 2, 3000);
  await assert.rejects(() => connect('everything'), 'no new session while draining');
  const result = await running;
  assert.notEqual(result.isError, true, JSON.stringify(result));
  assert.match(JSON.stringify(result.content), /completed/i);
  assert.equal((await stopping).code, 0);
});
