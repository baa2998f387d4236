import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeDaemon } from './fake-daemon.js';
import {
  governedTools,
  GovernedToolSet,
  HttpTransport,
  StubTransport,
  ToolDeniedError,
  TransportError,
  type GovernRequest,
  type Transport,
} from '../src/index.js';

test('StubTransport: permit runs the tool with its arguments; deny and defer throw ToolDeniedError and the tool never runs', async () => {
  const ran: string[] = [];
  const stub = new StubTransport({
    searchDocs: 'permit',
    payout: { effect: 'deny', code: 'POLICY_DENY', humanMessage: 'platform team only', ruleRef: 'governance.fms:9' },
    refund: 'defer',
  });
  const tools = governedTools(
    {
      searchDocs: async (a: { q: string }) => (ran.push('search'), `results for ${a.q}`),
      payout: async (_a: { amount: number }) => (ran.push('payout'), 'paid'),
      refund: async (_a: { amount: number }) => (ran.push('refund'), 'refunded'),
    },
    { agentId: 'bot', transport: stub, sessionId: 's-1', tags: ['t'] },
  );
  assert.equal(await tools.searchDocs({ q: 'fees' }), 'results for fees');
  assert.deepEqual(
    stub.calls.map((c: GovernRequest) => [c.agent_id, c.tool_id, c.args, c.session_id, c.tags]),
    [['bot', 'searchDocs', { q: 'fees' }, 's-1', ['t']]],
  );
  const denied = await tools.payout({ amount: 5 }).catch((e: unknown) => e);
  assert.ok(denied instanceof ToolDeniedError);
  assert.equal(denied.code, 'POLICY_DENY');
  assert.equal(denied.humanMessage, 'platform team only');
  assert.equal(denied.ruleRef, 'governance.fms:9');
  assert.equal(denied.resolution.type, 'rule_block');
  if (denied.resolution.type === 'rule_block') assert.equal(denied.resolution.ruleId, 'governance.fms:9');
  const deferred = await tools.refund({ amount: 5 }).catch((e: unknown) => e);
  assert.ok(deferred instanceof ToolDeniedError);
  assert.equal(deferred.effect, 'DEFER');
  assert.match(String(deferred.approvalId), /^apr-stub-/);
  assert.deepEqual(deferred.resolution, { type: 'pending_approval', approvalId: deferred.approvalId });
  assert.deepEqual(ran, ['search']);
  // An unlisted tool is denied, as under a default-deny policy.
  const other = governedTools({ other: async () => 'x' }, { agentId: 'bot', transport: stub });
  assert.equal(((await other.other().catch((e: unknown) => e)) as ToolDeniedError).code, 'POLICY_DENY');
});

test('onDeny and onDefer callbacks stand in for the tool; block waits for the approval and then runs the call', async () => {
  const stub = new StubTransport({ payout: 'deny', refund: 'defer' });
  let ran = 0;
  const tools = governedTools(
    { payout: async () => ++ran, refund: async () => ++ran },
    { agentId: 'bot', transport: stub, onDeny: (d) => `handled ${d.code}`, onDefer: (d, id) => `queued ${id} ${d.code}` },
  );
  assert.equal(await tools.payout(), 'handled POLICY_DENY');
  assert.match(String(await tools.refund()), /^queued apr-stub-\d+ POLICY_DEFER$/);
  assert.equal(ran, 0);

  // block: approved meanwhile → asked again → the stub permits the second ask.
  const table: Record<string, 'permit' | 'defer'> = { refund: 'defer' };
  const blocking = new StubTransport(table);
  const blocked = governedTools(
    { refund: async () => 'refunded' },
    { agentId: 'bot', transport: blocking, onDefer: 'block', pollIntervalMs: 10 },
  );
  const pending = blocked.refund();
  await new Promise((r) => setTimeout(r, 30));
  table.refund = 'permit';
  blocking.setApproval('apr-stub-1', 'approved');
  assert.equal(await pending, 'refunded');
  // Denied by the operator: POLICY_DENY.
  const denying = new StubTransport({ refund: { effect: 'defer', approvalStatus: 'denied' } });
  const e = await governedTools({ refund: async () => 'x' }, { agentId: 'bot', transport: denying, onDefer: 'block', pollIntervalMs: 5 })
    .refund()
    .catch((x: unknown) => x);
  assert.ok(e instanceof ToolDeniedError);
  assert.equal(e.code, 'POLICY_DENY');
  assert.match(e.humanMessage, /approval denied/);
  // Nobody answers in time.
  const silent = new StubTransport({ refund: 'defer' });
  const late = await governedTools(
    { refund: async () => 'x' },
    { agentId: 'bot', transport: silent, onDefer: 'block', pollIntervalMs: 5, approvalTimeoutMs: 30 },
  )
    .refund()
    .catch((x: unknown) => x);
  assert.ok(late instanceof ToolDeniedError);
  assert.match(late.humanMessage, /no decision within/);
});

test('a daemon not there yet is waited for (startGraceMs); after one wait in vain, calls fail at once until it answers', async () => {
  let up = false;
  let asked = 0;
  const transport: Transport = {
    govern: async () => {
      asked++;
      if (!up) throw new TransportError('agent.sock: ENOENT', true);
      return { call_id: 'c', action_id: 'a', effect: 'PERMIT' };
    },
    poll: async () => 'pending',
  };
  const tools = governedTools({ t: async () => 'ran' }, { agentId: 'bot', transport, startGraceMs: 400 });
  // Starting: it comes up while the call waits.
  setTimeout(() => (up = true), 120);
  assert.equal(await tools.t(), 'ran');
  assert.ok(asked >= 2, `asked ${asked} times`);
  // Gone for good: the call waits out its grace, then is DAEMON_UNREACHABLE, never a raw error.
  up = false;
  asked = 0;
  const gone = await tools.t().catch((e: unknown) => e);
  assert.ok(gone instanceof ToolDeniedError && gone.code === 'DAEMON_UNREACHABLE', String(gone));
  assert.ok(asked >= 2, `asked ${asked} times during the grace`);
  asked = 0;
  assert.equal(((await tools.t().catch((e: unknown) => e)) as ToolDeniedError).code, 'DAEMON_UNREACHABLE');
  assert.equal(asked, 1, 'the next call does not wait again');
  // Back: one call reaches it, and the grace applies again after that.
  up = true;
  assert.equal(await tools.t(), 'ran');
  up = false;
  asked = 0;
  setTimeout(() => (up = true), 120);
  assert.equal(await tools.t(), 'ran');
  assert.ok(asked >= 2);
  // A reply that is no decision is not "unreachable": it is never asked again.
  asked = 0;
  const broken: Transport = { ...transport, govern: async () => (asked++, Promise.reject(new TransportError('not JSON', false))) };
  const once = governedTools({ t: async () => 'ran' }, { agentId: 'bot', transport: broken, startGraceMs: 400 });
  assert.equal(((await once.t().catch((e: unknown) => e)) as ToolDeniedError).code, 'DAEMON_ERROR');
  assert.equal(asked, 1);
});

test('agentId is required; onDeny cannot block', () => {
  assert.throws(() => governedTools({}, { env: {} }), /needs agentId/);
  assert.deepEqual(governedTools({}, { env: { FARAMESH_AGENT_ID: 'x' }, transport: new StubTransport({}) }), {});
  assert.throws(() => governedTools({}, { agentId: 'x', onDeny: 'block' as 'throw' }), /cannot be "block"/);
});

test('HttpTransport with an injected fetch (the edge path): the evaluate body, the bearer token, the approval poll', async () => {
  const seen: { url: string; init: RequestInit }[] = [];
  const fetch = (async (url: string, init: RequestInit) => {
    seen.push({ url, init });
    if (url.endsWith('/v1/evaluate')) {
      const body = JSON.parse(String(init.body)) as { tool_id: string };
      return new Response(
        JSON.stringify(
          body.tool_id === 'ok'
            ? { effect: 'PERMIT', action_id: 'action-1' }
            : {
                effect: 'DEFER',
                defer_token: 'apr-9',
                structured_denial: {
                  code: 'POLICY_DEFER',
                  human_message: 'wait',
                  resolution: { type: 'pending_approval', approval_id: 'apr-9' },
                },
              },
        ),
        { status: 200, headers: { 'content-type': 'application/json' } },
      );
    }
    return new Response(JSON.stringify({ approval_id: 'apr-9', status: 'pending' }), { status: 200 });
  }) as unknown as typeof globalThis.fetch;
  const transport = new HttpTransport('https://eval.internal/', { token: 'fmt_x', fetch });
  const tools = governedTools({ ok: async () => 'ran', slow: async () => 'ran' }, { agentId: 'edge-bot', transport });
  assert.equal(await tools.ok(), 'ran');
  assert.equal(seen[0]!.url, 'https://eval.internal/v1/evaluate');
  assert.equal((seen[0]!.init.headers as Record<string, string>).authorization, 'Bearer fmt_x');
  assert.equal((JSON.parse(String(seen[0]!.init.body)) as { agent_id: string }).agent_id, 'edge-bot');
  assert.equal(((await tools.slow().catch((e: unknown) => e)) as ToolDeniedError).approvalId, 'apr-9');
  assert.equal(await transport.poll('apr-9', 'edge-bot', 1000), 'pending');
  assert.equal(seen.at(-1)!.url, 'https://eval.internal/v1/approvals/apr-9');
});

test('the edge entry point imports nothing from node: anywhere in its module graph', () => {
  const seen = new Set<string>();
  const walk = (file: URL) => {
    if (seen.has(file.href)) return;
    seen.add(file.href);
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/(?:import|export)[^'"]*from\s*'([^']+)'|import\('([^']+)'\)/g)) {
      const spec = m[1] ?? m[2]!;
      // A dynamic import is loaded only when taken (the socket transport, chosen by FARAMESH_SOCKET).
      if (m[2]) continue;
      assert.ok(!spec.startsWith('node:'), `${file.pathname} imports ${spec}`);
      if (spec.startsWith('.')) walk(new URL(spec, file));
    }
  };
  walk(new URL('../src/edge.js', import.meta.url));
  assert.ok(seen.size >= 6);
});

test('RATE_EXCEEDED is waited out and asked again when its retry_after ends within timeoutMs; a longer one is thrown at once', async () => {
  let asked = 0;
  const limited = (seconds: number): Transport => ({
    govern: async () => {
      asked++;
      if (asked > 1) return { effect: 'PERMIT' };
      return {
        effect: 'DENY',
        reason_code: 'RATE_EXCEEDED',
        structured_denial: {
          code: 'RATE_EXCEEDED',
          human_message: 'denied: t rate limit (1/second) exceeded',
          resolution: { type: 'retry_after', retry_after_seconds: seconds },
        },
      };
    },
    poll: async () => 'unknown',
  });
  const ran: string[] = [];
  const soon = governedTools({ t: async () => (ran.push('t'), 'ran') }, { agentId: 'bot', transport: limited(1), timeoutMs: 3000 });
  const t0 = Date.now();
  assert.equal(await soon.t(), 'ran');
  assert.equal(asked, 2);
  assert.ok(Date.now() - t0 >= 950, 'it waited the retry_after');
  asked = 0;
  const late = governedTools({ t: async () => (ran.push('late'), 'ran') }, { agentId: 'bot', transport: limited(30), timeoutMs: 3000 });
  const e = (await late.t().catch((x: unknown) => x)) as ToolDeniedError;
  assert.equal(e.code, 'RATE_EXCEEDED');
  assert.deepEqual(e.resolution, { type: 'retry_after', retryAfterSeconds: 30 });
  assert.equal(asked, 1);
  assert.deepEqual(ran, ['t']);
});

test('no transport configured: a DAEMON_UNREACHABLE denial that failOpen never runs, looked up again on the next call', async () => {
  const env: Record<string, string | undefined> = {};
  const ran: string[] = [];
  const warn = console.warn;
  console.warn = () => ran.push('warned');
  try {
    const tools = governedTools({ t: async () => (ran.push('t'), 'ran') }, { agentId: 'bot', env, failOpen: true, transport: undefined });
    const e = (await tools.t().catch((x: unknown) => x)) as ToolDeniedError;
    assert.ok(e instanceof ToolDeniedError, String(e));
    assert.equal(e.code, 'DAEMON_UNREACHABLE');
    assert.match(e.humanMessage, /no Faramesh transport: set FARAMESH_SOCKET/);
    assert.deepEqual(ran, [], 'failOpen is for a daemon down, not for one never configured');
    // Configured since: the next call looks again (and reaches nothing here, so failOpen may run it).
    env.FARAMESH_SOCKET = '/nonexistent/faramesh.sock';
    assert.equal(await tools.t(), 'ran');
  } finally {
    console.warn = warn;
  }
});

test("with nothing configured, the daemon's default socket under HOME is used when it is there", async () => {
  const home = mkdtempSync(join(tmpdir(), 'fm-home-'));
  const daemon = await fakeDaemon((m, socket) =>
    // Ended after the answer: an open server side would keep this test's process alive.
    socket.end(`${JSON.stringify({ jsonrpc: '2.0', id: m.id, result: { effect: 'PERMIT', action_id: 'action-1' } })}\n`),
  );
  try {
    const env: Record<string, string | undefined> = { HOME: home };
    const tools = governedTools({ t: async () => 'ran' }, { agentId: 'bot', env, transport: undefined });
    // Not there yet: no transport, as before.
    assert.match(((await tools.t().catch((x: unknown) => x)) as ToolDeniedError).humanMessage, /no Faramesh transport/);
    mkdirSync(join(home, '.faramesh', 'runtime'), { recursive: true });
    symlinkSync(daemon.path, join(home, '.faramesh', 'runtime', 'faramesh.sock'));
    assert.equal(await tools.t(), 'ran');
  } finally {
    daemon.close();
  }
});

test('a default socket with no daemon behind it (a stale file) is no transport: failOpen does not run the tool', async () => {
  const home = mkdtempSync(join(tmpdir(), 'fm-home-'));
  mkdirSync(join(home, '.faramesh', 'runtime'), { recursive: true });
  writeFileSync(join(home, '.faramesh', 'runtime', 'faramesh.sock'), '');
  const ran: string[] = [];
  const tools = governedTools(
    { t: async () => (ran.push('t'), 'ran') },
    { agentId: 'bot', env: { HOME: home }, failOpen: true, transport: undefined },
  );
  const e = (await tools.t().catch((x: unknown) => x)) as ToolDeniedError;
  assert.ok(e instanceof ToolDeniedError, String(e));
  assert.equal(e.code, 'DAEMON_UNREACHABLE');
  assert.match(e.humanMessage, /the default socket, used as nothing else is configured/);
  assert.deepEqual(ran, []);
});

test("ToolDeniedError answers to the Python SDK's field names", () => {
  const e = new ToolDeniedError({
    code: 'POLICY_DEFER',
    humanMessage: 'refunds need a human',
    resolution: { type: 'pending_approval', approvalId: 'apr-1' },
    effect: 'DEFER',
    toolId: 'refund',
    approvalId: 'apr-1',
    actionId: 'action-1',
  });
  assert.deepEqual([e.reason, e.denialToken, e.deferToken], ['refunds need a human', 'action-1', 'apr-1']);
});

test('new GovernedToolSet([...], { agentId }) (the reference’s spelling) is an array of the tools, each governed', async () => {
  const ran: string[] = [];
  const stub = new StubTransport({ searchDocs: 'permit' });
  async function searchDocs(a: { q?: string; to?: string }) {
    ran.push(`search ${a.q}`);
    return 'ok';
  }
  async function sendEmail(_a: { q?: string; to?: string }) {
    ran.push('email');
    return 'sent';
  }
  const tools = new GovernedToolSet([searchDocs, sendEmail], { agentId: 'my-agent', transport: stub });
  assert.ok(Array.isArray(tools));
  assert.equal(tools.length, 2);
  assert.deepEqual(
    tools.map((t) => t.name),
    ['searchDocs', 'sendEmail'],
  );
  assert.equal(await tools[0]!({ q: 'fees' }), 'ok');
  assert.equal(((await tools[1]!({ to: 'x@example.com' }).catch((e: unknown) => e)) as ToolDeniedError).code, 'POLICY_DENY');
  assert.deepEqual(ran, ['search fees']);
  assert.deepEqual(
    stub.calls.map((c) => [c.agent_id, c.tool_id]),
    [
      ['my-agent', 'searchDocs'],
      ['my-agent', 'sendEmail'],
    ],
  );
  assert.throws(() => new GovernedToolSet({} as never), /array of named tools/);
});

test('GovernedToolSet.from and .of build governed sets (the daemon unreachable: nothing runs)', async () => {
  const saved = { ...process.env };
  process.env.FARAMESH_SOCKET = '/nonexistent/faramesh.sock';
  process.env.FARAMESH_AGENT_ID = 'my-agent';
  delete process.env.FARAMESH_BASE_URL;
  delete process.env.FARAMESH_REMOTE_URL;
  try {
    const ran: string[] = [];
    async function sendEmail() {
      ran.push('email');
      return 'sent';
    }
    for (const tools of [GovernedToolSet.from([sendEmail]), GovernedToolSet.from(new Set([sendEmail])), GovernedToolSet.of(sendEmail)]) {
      assert.ok(tools instanceof GovernedToolSet);
      assert.equal(tools.length, 1);
      assert.ok((await tools[0]!().catch((e: unknown) => e)) instanceof Error);
    }
    assert.deepEqual(ran, []);
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
});
