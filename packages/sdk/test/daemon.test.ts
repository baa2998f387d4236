import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateText, isStepCount, tool } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { z } from 'zod';
import { createConnection } from 'node:net';
import { credential, governedTools, SocketTransport, ToolDeniedError } from '../src/index.js';
import { approveFromCli, POLICY, startDaemon } from './daemon.js';

test('against a real daemon: permit runs, deny never runs the tool, defer → approved from the CLI while blocking → runs once', async () => {
  const d = startDaemon();
  try {
    const ran: string[] = [];
    const tools = governedTools(
      {
        searchDocs: async (a: { q: string }) => (ran.push(`search ${a.q}`), ['doc-1']),
        payout: async (_a: { amount: number }) => (ran.push('payout'), 'paid'),
        refund: async (a: { amount: number }) => (ran.push(`refund ${a.amount}`), 'refunded'),
      },
      { agentId: 'bot', env: { FARAMESH_SOCKET: d.socket } },
    );
    assert.deepEqual(await tools.searchDocs({ q: 'fees' }), ['doc-1']);
    const denied = await tools.payout({ amount: 9 }).catch((e: unknown) => e);
    assert.ok(denied instanceof ToolDeniedError);
    assert.equal(denied.code, 'POLICY_DENY');
    assert.equal(denied.humanMessage, 'platform team only');
    assert.match(String(denied.actionId), /^action-[0-9A-Z]{26}$/);
    const deferred = await tools.refund({ amount: 5 }).catch((e: unknown) => e);
    assert.ok(deferred instanceof ToolDeniedError && deferred.effect === 'DEFER');
    assert.deepEqual(ran, ['search fees']);

    // block: the operator approves from the CLI while the call waits; then it runs, once.
    const blocking = governedTools(
      { refund: async (a: { amount: number }) => (ran.push(`refund ${a.amount}`), 'refunded') },
      { agentId: 'bot', transport: new SocketTransport(d.socket), onDefer: 'block', pollIntervalMs: 50 },
    );
    const waiting = blocking.refund({ amount: 7 });
    await approveFromCli(d, (args) => args.amount === 7);
    assert.equal(await waiting, 'refunded');
    assert.deepEqual(ran, ['search fees', 'refund 7']);
    // The approval was for that call once: the identical call defers again.
    assert.equal(((await tools.refund({ amount: 7 }).catch((e: unknown) => e)) as ToolDeniedError).effect, 'DEFER');
  } finally {
    d.stop();
  }
});

test('block: identical calls each wait for their own approval; an operator deny is final; a daemon lost while waiting denies', async () => {
  const d = startDaemon();
  try {
    const ran: number[] = [];
    const blocking = governedTools(
      { refund: async (a: { amount: number }) => (ran.push(a.amount), 'refunded') },
      { agentId: 'bot', transport: new SocketTransport(d.socket), onDefer: 'block', pollIntervalMs: 50 },
    );
    // Two identical calls share one approval; it lets one run, and the other waits for the next.
    const one = blocking.refund({ amount: 3 });
    const two = blocking.refund({ amount: 3 });
    const first = await approveFromCli(d, (args) => args.amount === 3);
    const second = await approveFromCli(d, (args) => args.amount === 3);
    assert.notEqual(second, first);
    assert.deepEqual(await Promise.all([one, two]), ['refunded', 'refunded']);
    assert.deepEqual(ran, [3, 3]);

    // Denied by the operator: a final denial, nothing pending any more.
    const denying = blocking.refund({ amount: 4 }).catch((e: unknown) => e);
    for (let i = 0; i < 200; i++) {
      const list = JSON.parse(d.cli('approvals', 'list', '--json').stdout) as { approvals: { id: string }[] };
      if (list.approvals[0]) {
        assert.equal(d.cli('approvals', 'deny', list.approvals[0].id, '--reason', 'no').code, 0);
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const denied = (await denying) as ToolDeniedError;
    assert.ok(denied instanceof ToolDeniedError);
    assert.deepEqual([denied.code, denied.effect, denied.resolution.type], ['POLICY_DENY', 'DENY', 'rule_block']);
    assert.match(denied.humanMessage, /^denied by \S+: no$/, "the operator's reason reaches the agent");
    assert.match(String(denied.actionId), /^action-/, 'the deny is a recorded decision');
    // The denial was spent on that call: the agent's next identical call asks a human afresh.
    const next = await governedTools(
      { refund: async (_a: { amount: number }) => 'refunded' },
      { agentId: 'bot', transport: new SocketTransport(d.socket) },
    )
      .refund({ amount: 4 })
      .catch((e: unknown) => e);
    assert.ok(next instanceof ToolDeniedError);
    assert.equal(next.effect, 'DEFER', next.humanMessage);

    // The daemon stops while a call waits: the call is denied as unreachable, never run, never a raw transport error.
    const lost = blocking.refund({ amount: 5 }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 200));
    d.stop();
    const gone = (await lost) as ToolDeniedError;
    assert.ok(gone instanceof ToolDeniedError, String(gone));
    assert.equal(gone.code, 'DAEMON_UNREACHABLE');
    assert.deepEqual(ran, [3, 3]);
  } finally {
    d.stop();
  }
});

test('tags reach conditions as tags (an argument named tags never does); an empty principal token is no token', async () => {
  const d = startDaemon(POLICY.replace('permit searchDocs', 'permit searchDocs\n    permit vipOnly if tags contains "vip"'));
  try {
    const vipOnly = async () => 'ran';
    const tagged = governedTools({ vipOnly }, { agentId: 'bot', env: { FARAMESH_SOCKET: d.socket }, tags: ['vip'] });
    assert.equal(await tagged.vipOnly(), 'ran');
    const untagged = governedTools(
      { vipOnly: async (_a: { tags: string[] }) => 'ran' },
      { agentId: 'bot', env: { FARAMESH_SOCKET: d.socket } },
    );
    const e = await untagged.vipOnly({ tags: ['vip'] }).catch((x: unknown) => x);
    assert.ok(e instanceof ToolDeniedError && e.code === 'POLICY_DENY', String(e));
    // The published SDKs send principal_token "" when FARAMESH_PRINCIPAL_TOKEN is unset.
    const reply = await new Promise<string>((resolve, reject) => {
      const c = createConnection(d.socket);
      let got = '';
      c.on('data', (b) => (got += String(b)));
      c.on('end', () => resolve(got));
      c.on('error', reject);
      c.write(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'govern',
          params: { agent_id: 'bot', tool: 'searchDocs', operation: 'invoke', args: {}, principal_token: '' },
        }) + '\n',
      );
    });
    assert.equal((JSON.parse(reply) as { result: { effect: string } }).result.effect, 'PERMIT', reply);
  } finally {
    d.stop();
  }
});

test('failOpen: with the daemon down, false denies (DAEMON_UNREACHABLE) and true runs; a deny is never opened', async () => {
  const d = startDaemon();
  const socket = d.socket;
  try {
    const open = governedTools({ payout: async () => 'paid' }, { agentId: 'bot', env: { FARAMESH_SOCKET: socket }, failOpen: true });
    // The daemon is up: failOpen changes nothing about a deny.
    assert.equal(((await open.payout().catch((e: unknown) => e)) as ToolDeniedError).code, 'POLICY_DENY');
  } finally {
    d.stop();
  }
  const closed = governedTools({ searchDocs: async () => 'ran' }, { agentId: 'bot', env: { FARAMESH_SOCKET: socket } });
  const e = await closed.searchDocs().catch((x: unknown) => x);
  assert.ok(e instanceof ToolDeniedError);
  assert.equal(e.code, 'DAEMON_UNREACHABLE');
  const warn = console.warn;
  console.warn = () => {};
  try {
    const open = governedTools({ searchDocs: async () => 'ran' }, { agentId: 'bot', env: { FARAMESH_SOCKET: socket }, failOpen: true });
    assert.equal(await open.searchDocs(), 'ran');
  } finally {
    console.warn = warn;
  }
});

test('Vercel AI SDK: generateText with governed tools; a denial reaches the model as a tool result carrying the structured denial', async () => {
  const d = startDaemon();
  try {
    let paid = false;
    const tools = governedTools(
      {
        searchDocs: tool({ description: 'search', inputSchema: z.object({ q: z.string() }), execute: async ({ q }) => `found ${q}` }),
        payout: tool({
          description: 'pay out',
          inputSchema: z.object({ amount: z.number() }),
          execute: async () => ((paid = true), 'paid'),
        }),
      },
      { agentId: 'bot', transport: new SocketTransport(d.socket) },
    );
    const usage = {
      inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 },
      outputTokens: { total: 1, text: 1, reasoning: 0 },
    };
    const model = new MockLanguageModelV4({
      doGenerate: [
        {
          content: [
            { type: 'tool-call', toolCallId: 'c1', toolName: 'searchDocs', input: JSON.stringify({ q: 'fees' }) },
            { type: 'tool-call', toolCallId: 'c2', toolName: 'payout', input: JSON.stringify({ amount: 9 }) },
          ],
          finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
          usage,
          warnings: [],
        },
        {
          content: [{ type: 'text', text: 'The payout was blocked by policy.' }],
          finishReason: { unified: 'stop', raw: 'stop' },
          usage,
          warnings: [],
        },
      ],
    });
    const result = await generateText({ model, tools, prompt: 'pay out 9', stopWhen: isStepCount(2) });
    const outputs = Object.fromEntries(result.steps[0]!.toolResults.map((r) => [r.toolName, r.output]));
    assert.equal(outputs.searchDocs, 'found fees');
    const denial = outputs.payout as { denied: boolean; code: string; message: string; resolution: { type: string } };
    assert.equal(denial.denied, true);
    assert.equal(denial.code, 'POLICY_DENY');
    assert.equal(denial.message, 'platform team only');
    assert.equal(denial.resolution.type, 'rule_block');
    assert.equal(paid, false, 'the tool body never ran');
    assert.equal(result.text, 'The payout was blocked by policy.');
    // The model's second call saw the denial as the tool's result.
    assert.match(JSON.stringify(model.doGenerateCalls[1]!.prompt), /platform team only/);
  } finally {
    d.stop();
  }
});

test('SocketTransport keeps one connection for every call, and opens another after the daemon restarts; a call made during the restart waits for it', async () => {
  const d = startDaemon();
  try {
    const transport = new SocketTransport(d.socket);
    const tools = governedTools({ searchDocs: async () => 'ran' }, { agentId: 'bot', transport });
    assert.deepEqual(await Promise.all([tools.searchDocs(), tools.searchDocs(), tools.searchDocs()]), ['ran', 'ran', 'ran']);
    assert.equal(d.cli('apply', '--stop').code, 0);
    // Down: the kept connection is gone and nothing answers.
    assert.equal(((await tools.searchDocs().catch((e: unknown) => e)) as ToolDeniedError).code, 'DAEMON_UNREACHABLE');
    assert.equal(d.cli('apply').code, 0);
    assert.equal(await tools.searchDocs(), 'ran');
    // A call made while the daemon restarts waits for it (startGraceMs) and is decided, not refused.
    assert.equal(d.cli('apply', '--stop').code, 0);
    const patient = governedTools(
      { searchDocs: async () => 'ran' },
      { agentId: 'bot', transport, startGraceMs: 60_000, timeoutMs: 60_000 },
    );
    const during = patient.searchDocs();
    await new Promise((r) => setTimeout(r, 100)); // it has found no socket, and waits
    assert.equal(d.cli('apply').code, 0);
    assert.equal(await during, 'ran');
    const list = d.cli('audit', 'tail', '--format', 'json', '--no-follow', '--limit', '50').stdout;
    assert.equal(list.split('\n').filter((l) => l.includes('"tool":"searchDocs"')).length, 5);
  } finally {
    d.stop();
  }
});

test('credential(): inside the tool body, the credential the daemon brokered for this call; outside, none', async () => {
  const d = startDaemon(
    POLICY.replace(
      'deny!  payout reason "platform team only"',
      'deny!  payout reason "platform team only"\n  }\n  credential "docs" {\n    provider = "nowhere"\n    tools    = ["searchDocs"]',
    ),
  );
  try {
    const tools = governedTools({ searchDocs: async () => credential() }, { agentId: 'bot', transport: new SocketTransport(d.socket) });
    const seen = await tools.searchDocs();
    assert.equal(seen?.value, 'Bearer STUB-docs');
    assert.equal(seen?.header, 'Authorization');
    assert.ok(Date.parse(seen!.expiresAt) > Date.now());
    assert.equal(credential(), undefined, 'not outside the call');
  } finally {
    d.stop();
  }
});
