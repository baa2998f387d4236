import { test } from 'node:test';
import { execFileSync, spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRecords } from '@faramesh/audit';
import { alive, makeStack, POLICY, request, RUNTIME, sleep, until, withStack, type GovernReply, type Stack } from './daemon-helpers.js';
import { FakeVault } from './fake-vault.js';

const search = { agent_id: 'bot', tool: 'search', args: { q: 'x' } };
// A bucket that does not refill while a slow machine restarts the daemon (3 per minute gives one back in 20 s).
const DAILY = POLICY.replace('rate_limit "search": 3 per minute', 'rate_limit "search": 3 per day');
const decisionsIn = (s: Stack) =>
  readRecords(join(s.dir, 'wal'))
    .map((r) => r.record)
    .filter((r) => r.type === 'decision');

test('SIGKILL under load loses no acknowledged decision; a restart keeps rate limits and approvals', async () => {
  await withStack(async (s) => {
    assert.equal(s.cli('apply').code, 0);
    const id = (await s.govern({ agent_id: 'bot', tool: 'stripe', operation: 'refund', args: { amount: 1 } })).defer_token!;
    assert.equal(s.cli('approvals', 'approve', id).code, 0);
    for (let i = 0; i < 3; i++) assert.equal((await s.govern(search)).effect, 'PERMIT');
    // Load: many concurrent calls; the kill lands while they are in flight.
    const acked: string[] = [];
    let stop = false;
    const load = Array.from({ length: 16 }, async () => {
      while (!stop) {
        try {
          const r = await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: {} });
          acked.push(r.action_id!);
        } catch {
          return; // the daemon is gone
        }
      }
    });
    await sleep(300);
    process.kill(s.pid(), 'SIGKILL');
    stop = true;
    await Promise.all(load);
    assert.ok(acked.length > 10, `${acked.length} decisions acknowledged before the kill`);
    const restarted = s.cli('apply');
    assert.equal(restarted.code, 0, restarted.stderr);
    const recorded = new Set(decisionsIn(s).map((r) => `action-${String(r.id)}`));
    for (const a of acked) assert.ok(recorded.has(a), `acknowledged ${a} is in the log`);
    // The rate bucket (3 per day) came back from the log: a fourth search is refused.
    const fourth = await s.govern(search);
    assert.equal(fourth.effect, 'DENY');
    assert.equal(fourth.reason_code, 'RATE_EXCEEDED');
    // The approval granted before the crash still lets the identical call run, once.
    assert.equal((await s.govern({ agent_id: 'bot', tool: 'stripe', operation: 'refund', args: { amount: 1 } })).effect, 'PERMIT');
    assert.equal(s.cli('apply', '--stop').code, 0);
    const verified = s.cli('audit', 'verify');
    assert.equal(verified.code, 0, verified.stdout);
  }, DAILY);
});

test('SIGTERM drains: calls in flight are answered, the log ends with a checkpoint, exit 0', async () => {
  await withStack(async (s) => {
    // apply writes the signed compiled policy; serve then runs the daemon in the foreground.
    assert.equal(s.cli('apply').code, 0);
    assert.equal(s.cli('apply', '--stop').code, 0);
    let stderr = '';
    const daemon = s.spawnCli('serve');
    daemon.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const done = new Promise<number | null>((r) => daemon.once('exit', (code) => r(code)));
    await until('READY', async () => s.cli('status', '-q').stdout.trim() === '0');
    const calls = Array.from({ length: 40 }, () => s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: {} }));
    // Once the first is answered (on a loaded machine, 5 ms may not be enough for any to arrive),
    // the others are in flight or on their way.
    await Promise.race(calls);
    daemon.kill('SIGTERM');
    const results = await Promise.allSettled(calls);
    assert.equal(await done, 0, stderr);
    // Every call that reached the daemon got its answer; none was cut off mid-way.
    const answered = results.filter((r) => r.status === 'fulfilled').length;
    assert.ok(answered > 0);
    const acked = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.action_id] : []));
    const recorded = new Set(decisionsIn(s).map((r) => `action-${String(r.id)}`));
    for (const a of acked) assert.ok(recorded.has(a!));
    const types = readRecords(join(s.dir, 'wal')).map((r) => r.record.type);
    assert.deepEqual(types.slice(-2), ['daemon_stopped', 'checkpoint']);
  });
});

test('cold start: initialization past cold_start_deny_window is HALT (exit 3), and no agent socket ever opens', async () => {
  await withStack(
    async (s) => {
      const r = s.cli('apply');
      assert.equal(r.code, 1);
      assert.match(r.stderr, /halt|exited \(code 3\)/i);
      assert.match(
        readFileSync(join(s.dir, '.faramesh', 'runtime', 'daemon.log'), 'utf8'),
        /HALT: initialization took .* past cold_start_deny_window/,
      );
      assert.equal(s.cli('status', '-q').stdout.trim(), '1');
    },
    POLICY.replace('runtime {', 'runtime {\n  cold_start_deny_window = "1ms"'),
  );
});

test('cold start: a cold_start_deny_window longer than a Node timer holds (~25 days) does not HALT at once', async () => {
  await withStack(
    async (s) => {
      const r = s.cli('apply');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(s.cli('status', '-q').stdout.trim(), '0');
      assert.doesNotMatch(readFileSync(join(s.dir, '.faramesh', 'runtime', 'daemon.log'), 'utf8'), /HALT|TimeoutOverflowWarning/);
      assert.equal(s.cli('apply', '--stop').code, 0);
    },
    POLICY.replace('runtime {', 'runtime {\n  cold_start_deny_window = "30d"'),
  );
});

/**
 * A stack whose checkpoint signer (a Vault Transit key) does not answer until `release()`: the daemon
 * waits in INITIALIZING. `runtime` lines go into its runtime block; `timeout` is the provider's own.
 */
async function heldSignerStack(runtime: string, timeout?: number) {
  const vault = new FakeVault();
  await vault.start();
  vault.addTransitKey('dpr', 'ed25519');
  let release!: () => void;
  vault.hold = new Promise<void>((r) => (release = r));
  const kms = `provider "kms" {\n  type = "vault-transit"\n  addr = "${vault.addr}"\n  token = env("VAULT_TOKEN")\n  key = "dpr"\n${timeout === undefined ? '' : `  timeout = ${timeout}\n`}}\n`;
  const s = makeStack(POLICY.replace('runtime {', `runtime {\n  ${runtime}`) + kms, { VAULT_TOKEN: vault.root });
  const cleanUp = () => {
    release();
    s.cli('apply', '--stop');
    s.stop();
    vault.stop();
  };
  return { s, release, cleanUp };
}

test('until READY the agent socket is closed and HTTP decisions are DAEMON_NOT_READY; READY opens the socket', async () => {
  // A checkpoint signer that is slow to answer holds the daemon in INITIALIZING, after the HTTP API opened.
  const { s, release, cleanUp } = await heldSignerStack(
    'http_listen = "127.0.0.1:0"\n  http_upstream = "http://127.0.0.1:9/api"\n  http_agent = "bot"',
  );
  try {
    const applying = s.cliAsync('apply');
    let http = '';
    await until('INITIALIZING with the HTTP API open', async () => {
      const st = JSON.parse((await s.cliAsync('status', '--format', 'json')).stdout) as { daemon: { state: string; http?: string } };
      http = st.daemon.http ?? '';
      return st.daemon.state === 'INITIALIZING' && http !== '';
    });
    const res = await fetch(`${http}/v1/evaluate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ agent_id: 'bot', tool_id: 'ticket/read', args: {} }),
    });
    const body = (await res.json()) as GovernReply;
    assert.equal(body.effect, 'DENY');
    assert.equal(body.structured_denial?.code, 'DAEMON_NOT_READY');
    assert.deepEqual(body.structured_denial?.resolution, { type: 'retry_after', retry_after_seconds: 2 });
    // The reverse proxy on the same listener is not ready either: 503 with retry-after, never a 404.
    const proxied = await fetch(`${http}/orders/1`);
    assert.equal(proxied.status, 503);
    assert.equal(proxied.headers.get('retry-after'), '2');
    assert.equal(((await proxied.json()) as { code?: string }).code, 'DAEMON_NOT_READY');
    // And a spawn_ended says when to retry.
    const ended = await fetch(`${http}/v1/spawn_ended`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ agent_id: 'bot', count: 1 }),
    });
    assert.equal(ended.status, 503);
    assert.equal(ended.headers.get('retry-after'), '2');
    // An approval poll cannot be answered before the approvals are loaded: 503, never "unknown"
    // (which tells an agent waiting through a restart that its pending approval is gone).
    const polled = await fetch(`${http}/v1/approvals/apr-0123456789abcdef`);
    assert.equal(polled.status, 503);
    assert.equal(polled.headers.get('retry-after'), '2');
    assert.equal(((await polled.json()) as { error?: { code?: string } }).error?.code, 'not_ready');
    assert.equal(existsSync(s.socket), false, 'no agent socket before READY');
    await assert.rejects(s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: {} }), /ENOENT|ECONNREFUSED/);
    release();
    const applied = await applying;
    assert.equal(applied.code, 0, applied.stderr + applied.stdout);
    // READY and the socket come together: the first call after apply returns is decided.
    assert.equal((await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: {} })).effect, 'PERMIT');
  } finally {
    cleanUp();
  }
});

test('cold start: a step that hangs past cold_start_deny_window is HALT (exit 3) when the window closes, not when the step gives up', async () => {
  // A checkpoint signer that never answers (its own timeout is 30 s): the window (1 s) must end the start.
  const { s, cleanUp } = await heldSignerStack('cold_start_deny_window = "1s"', 30);
  try {
    const t0 = Date.now();
    const r = await s.cliAsync('apply');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /exited \(code 3\)/, r.stderr);
    assert.match(
      readFileSync(join(s.dir, '.faramesh', 'runtime', 'daemon.log'), 'utf8'),
      /HALT: initialization took .* past cold_start_deny_window/,
    );
    // Well before the signer's own 30 s timeout; the margin is wide as a loaded machine starts slowly.
    assert.ok(Date.now() - t0 < 20_000, `HALT came ${Date.now() - t0} ms after apply began`);
    assert.equal(existsSync(s.socket), false, 'the agent socket never opened');
  } finally {
    cleanUp();
  }
});

test('apply --stop while the daemon initializes ends its process, with a step still hanging', async () => {
  const { s, cleanUp } = await heldSignerStack('cold_start_deny_window = "60s"', 30);
  try {
    const applying = s.cliAsync('apply');
    let pid = 0;
    await until('INITIALIZING', async () => {
      const st = JSON.parse((await s.cliAsync('status', '--format', 'json')).stdout) as { daemon: { state: string; pid?: number } };
      pid = st.daemon.pid ?? 0;
      return st.daemon.state === 'INITIALIZING';
    });
    const stopped = await s.cliAsync('apply', '--stop');
    assert.equal(stopped.code, 0, stopped.stderr + stopped.stdout);
    assert.equal(alive(pid), false, 'the process is gone');
    assert.equal((await applying).code, 1);
    assert.equal(existsSync(s.socket), false, 'the agent socket never opened');
  } finally {
    cleanUp();
  }
});

test("a start that fails on a socket held by another stack's daemon leaves that socket (and daemon) alone", async () => {
  const shared = join(mkdtempSync(join(tmpdir(), 'fm-shared-')), 'agent.sock');
  const policy = POLICY.replace('socket  = "./.faramesh/runtime/agent.sock"', `socket  = "${shared}"`);
  const a = makeStack(policy);
  const b = makeStack(policy);
  try {
    assert.equal(a.cli('apply').code, 0);
    for (let attempt = 0; attempt < 2; attempt++) {
      const r = b.cli('apply');
      assert.equal(r.code, 1, 'the second stack cannot take the socket');
      assert.match(r.stderr + r.stdout, /in use by another running daemon/);
      assert.ok(existsSync(shared), 'the first daemon keeps its socket');
      const reply = JSON.parse(await request(shared, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'govern', params: search }))) as {
        result: GovernReply;
      };
      assert.equal(reply.result.effect, 'PERMIT', 'and is still the one deciding');
    }
  } finally {
    for (const s of [a, b]) {
      s.cli('apply', '--stop');
      s.stop();
    }
  }
});

test('immutable_config: apply locks the source, and locks it again when it changes nothing', async () => {
  const s = makeStack(POLICY.replace('runtime {', 'runtime {\n  immutable_config = true'));
  const src = join(s.dir, 'governance.fms');
  const locked = () => /^\S*i\S*\s/.test(execFileSync('lsattr', [src], { encoding: 'utf8' }));
  try {
    const first = s.cli('apply');
    assert.equal(first.code, 0, first.stderr);
    // A filesystem without the flag (tmpfs) gets the documented refusal, named, and nothing more to check.
    if (/config not locked/.test(first.stdout)) return assert.match(first.stdout, /chattr \+i failed on .*governance\.fms/);
    assert.match(first.stdout, /config locked: .*chattr \+i/);
    assert.ok(locked());
    assert.throws(() => writeFileSync(src, 'agent "x" {}\n'), /EPERM|EACCES/, 'even root cannot write it');
    execFileSync('chattr', ['-i', src]);
    const again = s.cli('apply');
    assert.match(again.stdout, /no changes/);
    assert.ok(locked(), 'an apply that changes nothing puts the lock back');
    const destroyed = s.cli('destroy', '--yes');
    assert.equal(destroyed.code, 0, destroyed.stderr);
    assert.match(destroyed.stdout, /governance\.fms kept, still immutable \(immutable_config\): lift it with chattr -i/);
    assert.ok(locked(), 'destroy never touches the source');
  } finally {
    spawnSync('chattr', ['-i', src]);
    s.cli('apply', '--stop');
    s.stop();
  }
});

test('state files edited outside the daemon refuse the start: an approval marked approved, a token added', async () => {
  await withStack(async (s) => {
    const state = (name: string) => join(s.dir, '.faramesh', name.endsWith('tokens.json') ? 'keys' : 'state', name);
    assert.equal(s.cli('apply').code, 0);
    const refund = { agent_id: 'bot', tool: 'stripe', operation: 'refund', args: { amount: 5 } };
    const token = (await s.govern(refund)).defer_token!;
    assert.equal(s.cli('token', 'issue', '--operator', '--name', 'ops').code, 0);
    assert.equal(s.cli('apply', '--stop').code, 0);
    for (const [name, edit] of [
      ['approvals.json', (body: string) => body.replace('"status":"pending"', '"status":"approved"')],
      ['tokens.json', (body: string) => body.replace('"name":"ops"', '"name":"mallory"')],
    ] as const) {
      const original = readFileSync(state(name), 'utf8');
      const sealed = JSON.parse(original) as { body: string };
      const edited = edit(sealed.body);
      assert.notEqual(edited, sealed.body, `the edit changes ${name}`);
      writeFileSync(state(name), JSON.stringify({ ...sealed, body: edited }));
      const refused = s.cli('apply');
      assert.equal(refused.code, 1, `${name}: ${refused.stdout}`);
      assert.match(refused.stderr, new RegExp(`${name.replace('.', '\\.')} was changed outside the daemon`));
      writeFileSync(state(name), original);
    }
    // Put back as the daemon sealed them, they open, and the refund is still waiting for a human.
    assert.equal(s.cli('apply').code, 0);
    const again = await s.govern(refund);
    assert.equal(again.effect, 'DEFER');
    assert.equal(again.defer_token, token);
  });
});

test('approvals expire after approval_ttl; the identical call then defers under a new approval', async () => {
  await withStack(
    async (s) => {
      assert.equal(s.cli('apply').code, 0);
      const call = { agent_id: 'bot', tool: 'stripe', operation: 'refund', args: { amount: 2 } };
      const first = (await s.govern(call)).defer_token!;
      await until('expiry', async () => {
        const r = JSON.parse(await s.raw(JSON.stringify({ type: 'poll_defer', defer_token: first }))) as { status: string };
        return r.status === 'expired';
      });
      assert.equal(s.cli('approvals', 'approve', first).code, 1, 'an expired approval cannot be approved');
      const second = await s.govern(call);
      assert.equal(second.effect, 'DEFER');
      assert.notEqual(second.defer_token, first);
      await until('the expiry record', () =>
        readRecords(join(s.dir, 'wal')).some((r) => r.record.type === 'approval_resolved' && r.record.outcome === 'expired'),
      );
    },
    POLICY.replace('runtime {', 'runtime {\n  approval_ttl = "1s"'),
  );
});

test('hot-swap under concurrent load: every decision is under the old or the new policy, each applied before it', async () => {
  await withStack(async (s) => {
    assert.equal(s.cli('apply').code, 0);
    let stop = false;
    const effects: string[] = [];
    const load = Array.from({ length: 8 }, async () => {
      while (!stop) effects.push((await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: {} })).effect);
    });
    await sleep(100);
    const src = join(s.dir, 'governance.fms');
    writeFileSync(src, readFileSync(src, 'utf8').replace('permit ticket/read', 'deny ticket/read reason "swapped"'));
    assert.equal(s.cli('apply').code, 0);
    // After apply returns, every new call sees the new policy.
    assert.equal((await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: {} })).effect, 'DENY');
    stop = true;
    await Promise.all(load);
    const firstDeny = effects.indexOf('DENY');
    assert.ok(firstDeny > 0, 'permits before the swap');
    // In log order the decisions switch once, from the old policy to the new: none mixes back.
    const order = decisionsIn(s).map((r) => r.policy_version as string);
    const switches = order.filter((v, i) => i > 0 && v !== order[i - 1]).length;
    assert.equal(new Set(order).size, 2);
    assert.equal(switches, 1);
    assert.equal(s.cli('apply', '--stop').code, 0);
    const verified = s.cli('audit', 'verify');
    assert.equal(verified.code, 0, verified.stdout);
    assert.match(verified.stdout, /2 policy versions, every decision under an applied one/);
  });
});

test('apply --stop with no daemon is a no-op; the pid of a stopped daemon is gone', async () => {
  await withStack(async (s) => {
    assert.match(s.cli('apply', '--stop').stdout, /no daemon is running/);
    assert.equal(s.cli('apply').code, 0);
    const pid = s.pid();
    assert.equal(s.cli('apply', '--stop').code, 0);
    assert.ok(!alive(pid));
  });
});

test('a restart replays only the log after the state snapshot; a snapshot that does not match the log is ignored', async () => {
  await withStack(async (s) => {
    const snapshot = join(s.dir, '.faramesh', 'state', 'engine-state.json');
    const rebuilt = () => {
      const lines = readFileSync(join(s.dir, '.faramesh', 'runtime', 'daemon.log'), 'utf8').match(/state rebuilt from .*/g) ?? [];
      return lines.at(-1) ?? '';
    };
    assert.equal(s.cli('apply').code, 0);
    assert.equal((await s.govern(search)).effect, 'PERMIT');
    // Draining writes a snapshot: the next start reads only what came after it.
    assert.equal(s.cli('apply', '--stop').code, 0);
    const taken = readFileSync(snapshot);
    assert.equal(s.cli('apply').code, 0);
    assert.match(rebuilt(), /from the snapshot and [0-4] log records/);
    // Two more searches after the snapshot, then a crash with the older snapshot in place: the tail
    // replay puts them back, so the bucket (3 per day) is empty.
    for (let i = 0; i < 2; i++) assert.equal((await s.govern(search)).effect, 'PERMIT');
    process.kill(s.pid(), 'SIGKILL');
    await until('the daemon is gone', () => !alive(s.pid()));
    writeFileSync(snapshot, taken);
    assert.equal(s.cli('apply').code, 0);
    assert.match(rebuilt(), /from the snapshot and \d+ log records/);
    assert.equal((await s.govern(search)).reason_code, 'RATE_EXCEEDED');
    assert.equal(s.cli('apply', '--stop').code, 0);
    // A snapshot edited by hand (the rate buckets emptied) fails its seal and is not used: the whole
    // log is replayed, and the bucket stays empty.
    const sealed = JSON.parse(readFileSync(snapshot, 'utf8')) as { body: string };
    const body = JSON.parse(sealed.body) as { state: { buckets: object } };
    body.state.buckets = {};
    writeFileSync(snapshot, JSON.stringify({ ...sealed, body: JSON.stringify(body) }));
    assert.equal(s.cli('apply').code, 0);
    assert.match(
      rebuilt(),
      /^state rebuilt from \d+ log records \(the state snapshot is unusable \(engine-state\.json was changed outside the daemon/,
    );
    assert.equal((await s.govern(search)).reason_code, 'RATE_EXCEEDED');
    // A new log (the old one removed) never inherits the old state.
    assert.equal(s.cli('apply', '--stop').code, 0);
    const older = readFileSync(snapshot);
    rmSync(join(s.dir, 'wal'), { recursive: true });
    assert.equal(s.cli('apply').code, 0);
    assert.match(rebuilt(), /the state snapshot is ahead of the log/);
    assert.equal((await s.govern(search)).effect, 'PERMIT');
    // Nor does it when the new log has grown past the old snapshot: the record it ends at is not this log's.
    for (let i = 0; i < 30; i++)
      assert.equal((await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: {} })).effect, 'PERMIT');
    assert.equal(s.cli('apply', '--stop').code, 0);
    writeFileSync(snapshot, older);
    assert.equal(s.cli('apply').code, 0);
    assert.match(rebuilt(), /^state rebuilt from \d+ log records \(the log does not hold the record the state snapshot ends at\)/);
  }, DAILY);
});

test('a phase that ended stays ended across a hot swap (one adding or removing an agent without phases too), and a restart on a policy that changed something else; new phases start again', async () => {
  const phased = `${RUNTIME}
agent "bot" {
  default deny
  phase "audit-only" {
    duration = "2s"
    next     = "enforce"
    rules { permit stripe/charge }
  }
  rules {
    deny stripe/charge reason "enforced"
    permit ticket/read
  }
}
`;
  await withStack(async (s) => {
    const charge = { agent_id: 'bot', tool: 'stripe', operation: 'charge', args: {} };
    const src = join(s.dir, 'governance.fms');
    assert.equal(s.cli('apply').code, 0);
    assert.equal((await s.govern(charge)).effect, 'PERMIT', 'in the audit-only phase');
    await sleep(2500);
    assert.equal((await s.govern(charge)).effect, 'DENY', 'the phase ended');
    // A hot swap that changes something else: the phase stays over.
    writeFileSync(src, readFileSync(src, 'utf8').replace('permit ticket/read', 'permit ticket/read\n    permit ticket/list'));
    assert.equal(s.cli('apply').code, 0);
    assert.equal((await s.govern(charge)).effect, 'DENY', 'an unrelated hot swap does not start the phase again');
    // An agent with no phases added before bot, then removed again: no phase changed either time.
    const before = readFileSync(src, 'utf8');
    writeFileSync(src, before.replace('agent "bot"', 'agent "helper" {\n  default deny\n  rules { permit ticket/read }\n}\n\nagent "bot"'));
    assert.equal(s.cli('apply').code, 0);
    assert.equal((await s.govern(charge)).effect, 'DENY', 'adding an agent without phases does not start the ended phase again');
    writeFileSync(src, before);
    assert.equal(s.cli('apply').code, 0);
    assert.equal((await s.govern(charge)).effect, 'DENY', 'nor does removing it');
    // A crash, and a start on a policy that changed something else: still over.
    process.kill(s.pid(), 'SIGKILL');
    writeFileSync(src, readFileSync(src, 'utf8').replace('permit ticket/list', 'permit ticket/list\n    permit ticket/show'));
    assert.equal(s.cli('apply').code, 0);
    assert.equal((await s.govern(charge)).effect, 'DENY', 'nor does a restart on such a policy');
    // A policy that changes the phases starts them again.
    writeFileSync(src, readFileSync(src, 'utf8').replace('duration = "2s"', 'duration = "3s"'));
    assert.equal(s.cli('apply').code, 0);
    assert.equal((await s.govern(charge)).effect, 'PERMIT', 'new phases start when applied');
    assert.equal(s.cli('apply', '--stop').code, 0);
    const verified = s.cli('audit', 'verify', '--strict');
    assert.equal(verified.code, 0, verified.stdout);
  }, phased);
});
