import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { operatorCall } from '@faramesh/daemon/client';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeStack, POLICY, until, type Stack } from './daemon-helpers.js';

/** Collect a child's output as it comes. */
function collect(child: ChildProcess): { out: () => string; err: () => string; exited: Promise<number> } {
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? -1)));
  return { out: () => out, err: () => err, exited };
}

/** `faramesh dev` on the stack, once it says it is ready (a child the caller must end). */
async function startDev(s: Stack): Promise<{ child: ChildProcess; dev: ReturnType<typeof collect> }> {
  const child = s.spawnCli('dev');
  const dev = collect(child);
  await until('dev to be ready', () => dev.out().includes('Ctrl-C stops it'), 15_000).catch((e: Error) => {
    child.kill('SIGKILL');
    throw e;
  });
  return { child, dev };
}

/** The stack's policy with payouts permitted: an edit tried in dev. */
const PAYOUTS_PERMITTED = (policy: string) => policy.replace('deny!  stripe/payouts reason "platform team only"', 'permit stripe/payouts');

async function withDev(f: (s: Stack, dev: ReturnType<typeof collect>, child: ChildProcess) => Promise<void>): Promise<void> {
  const s = makeStack();
  const { child, dev } = await startDev(s);
  try {
    await f(s, dev, child);
  } finally {
    await stopDev(child, dev);
  }
}

/** Ctrl-C, so dev removes its scratch log; a dev that does not go within 10 s is killed. */
async function stopDev(child: ChildProcess, dev: ReturnType<typeof collect>): Promise<void> {
  child.kill('SIGINT');
  const gone = await Promise.race([dev.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 10_000))]);
  if (!gone) child.kill('SIGKILL');
}

test('faramesh dev: same engine and protocol, a dev-tagged in-memory log with a stub identity, records echoed to stderr; Ctrl-C leaves nothing', async () => {
  await withDev(async (s, dev, child) => {
    const walLine = /WAL: in-memory \((.+)\)/.exec(dev.out());
    assert.ok(walLine, dev.out());
    const wal = walLine[1]!.replace(/\/wal$/, '/wal');
    assert.ok(wal.startsWith('/dev/shm/') || !existsSync('/dev/shm'), wal);
    assert.ok(existsSync(wal));

    assert.equal((await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: { id: 1 } })).effect, 'PERMIT');
    assert.equal((await s.govern({ agent_id: 'bot', tool: 'stripe', operation: 'payouts', args: {} })).effect, 'DENY');
    const deferred = await s.govern({ agent_id: 'bot', tool: 'stripe', operation: 'refund', args: { amount: 5 } });
    assert.equal(deferred.effect, 'DEFER');
    assert.equal(s.cli('approvals', 'approve', deferred.defer_token!).code, 0);
    assert.equal((await s.govern({ agent_id: 'bot', tool: 'stripe', operation: 'refund', args: { amount: 5 } })).effect, 'PERMIT');

    const status = JSON.parse(s.cli('status', '--format', 'json').stdout) as { daemon: { dev: boolean; wal: { path: string } } };
    assert.equal(status.daemon.dev, true);
    assert.equal(status.daemon.wal.path, wal);
    // apply does not hot-swap into a throwaway dev daemon, which would discard what it applied.
    const applied = s.cli('apply');
    assert.equal(applied.code, 1);
    assert.match(applied.stderr, /a faramesh dev daemon \(pid=\d+\) is running this stack, on a throwaway log/);
    // Nothing of the run is in the stack's own WAL or state.
    assert.equal(existsSync(join(s.dir, 'wal')), false);
    assert.equal(existsSync(join(s.dir, '.faramesh', 'state', 'approvals.json')), false);
    // A compaction of the dev log archives beside it (removed with it), not into the stack's wal-archive.
    const compact = s.cli('audit', 'compact', '--older-than', '1d', '--format', 'json');
    assert.equal(compact.code, 0, compact.stderr);
    assert.equal((JSON.parse(compact.stdout) as { archive_dir: string }).archive_dir, `${wal}-archive`);

    // The audit commands find the dev log through the running daemon.
    const tail = s.cli('audit', 'tail', '--no-follow', '--format', 'json', '--limit', '50');
    assert.equal(tail.code, 0, tail.stderr);
    const records = tail.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const decisions = records.filter((r) => r.type === 'decision');
    assert.deepEqual(
      decisions.map((r) => r.effect),
      ['permit', 'deny', 'defer', 'permit'],
    );
    assert.ok(records.every((r) => r.dev === true));
    assert.match(String(decisions[0]!.agent_svid), /^spiffe:\/\/localhost\/dev\/[^/]+\/fm-d-[^/]+\/bot$/);
    // Echoed to stderr as JSON Lines (the stub audit sink).
    await until('the echo', () => dev.err().includes(`"id":"${String(decisions[3]!.id)}"`));
    const verify = s.cli('audit', 'verify');
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, /dev-tagged records/);
    assert.equal(s.cli('audit', 'verify', '--strict').code, 3);

    child.kill('SIGINT');
    assert.equal(await dev.exited, 0);
    assert.equal(existsSync(wal), false, 'the in-memory log is removed');
    assert.equal(existsSync(join(s.dir, '.faramesh', 'runtime', 'operator.sock')), false);
    assert.equal(existsSync(join(s.dir, '.faramesh', 'runtime', 'wal.path')), false);
    assert.equal(existsSync(join(s.dir, '.faramesh', 'runtime', 'daemon.pid')), false);
  });
});

test('a policy tried in faramesh dev does not outlive the session: the next start enforces what apply applied', async () => {
  const s = makeStack();
  try {
    assert.equal(s.cli('apply').code, 0);
    assert.equal(s.cli('apply', '--stop').code, 0);
    const compiled = join(s.dir, '.faramesh', 'governance.compiled.json');
    const applied = readFileSync(compiled);
    const appliedSig = readFileSync(join(s.dir, '.faramesh', 'governance.compiled.sig'));
    // Try an edit in dev (payouts permitted), then stop it, without ever applying the edit.
    writeFileSync(join(s.dir, 'governance.fms'), PAYOUTS_PERMITTED(POLICY));
    const { child, dev } = await startDev(s);
    assert.equal((await s.govern({ agent_id: 'bot', tool: 'stripe', operation: 'payouts', args: {} })).effect, 'PERMIT');
    child.kill('SIGINT');
    assert.equal(await dev.exited, 0);
    assert.deepEqual(readFileSync(compiled), applied, 'the compiled policy apply signed is back');
    assert.deepEqual(readFileSync(join(s.dir, '.faramesh', 'governance.compiled.sig')), appliedSig);
    // So a daemon started from the stack's files (a service manager's `faramesh serve`) enforces the applied policy.
    const serve = s.spawnCli('serve');
    try {
      await until('serve to be ready', () => existsSync(s.socket), 15_000);
      assert.equal((await s.govern({ agent_id: 'bot', tool: 'stripe', operation: 'payouts', args: {} })).effect, 'DENY');
    } finally {
      serve.kill('SIGKILL');
    }
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});

test('an applied version tried again in faramesh dev can still be rolled back to', async () => {
  const s = makeStack();
  try {
    assert.equal(s.cli('apply').code, 0);
    const original = readFileSync(join(s.dir, 'governance.fms'), 'utf8');
    const edited = PAYOUTS_PERMITTED(original);
    writeFileSync(join(s.dir, 'governance.fms'), edited);
    assert.equal(s.cli('apply').code, 0);
    assert.equal(s.cli('apply', '--stop').code, 0);
    // The first version, tried again in dev.
    writeFileSync(join(s.dir, 'governance.fms'), original);
    const { child, dev } = await startDev(s);
    child.kill('SIGINT');
    assert.equal(await dev.exited, 0);
    writeFileSync(join(s.dir, 'governance.fms'), edited);
    assert.equal(s.cli('apply').code, 0);
    const rolled = s.cli('rollback');
    assert.equal(rolled.code, 0, rolled.stdout + rolled.stderr);
    assert.equal((await s.govern({ agent_id: 'bot', tool: 'stripe', operation: 'payouts', args: {} })).effect, 'DENY');
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});

test('while faramesh dev runs, plan and explain read the policy dev enforces (the quickstart: edit, check, plan)', async () => {
  await withDev(async (s) => {
    const explained = s.cli('explain', '--agent', 'bot', '--tool', 'stripe/payouts', '--format', 'json');
    assert.equal(explained.code, 0, explained.stderr);
    assert.match(explained.stdout, /DENY/);
    assert.doesNotMatch(explained.stderr, /left behind when dev was killed/);
    writeFileSync(join(s.dir, 'governance.fms'), PAYOUTS_PERMITTED(POLICY));
    const planned = s.cli('plan', '--format', 'json');
    assert.equal(planned.code, 0, planned.stderr);
    const plan = JSON.parse(planned.stdout) as { baseline: { source: string } | null; diff: { rules: { changed: unknown[] } } };
    assert.equal(plan.baseline?.source, 'running');
    assert.equal(plan.diff.rules.changed.length, 1, planned.stdout);
  });
});

for (const signal of ['SIGHUP', 'SIGQUIT'] as const)
  test(`faramesh dev stops on ${signal} (its terminal closed, Ctrl-\\), leaving nothing behind, like Ctrl-C`, async () => {
    const s = makeStack();
    const { child, dev } = await startDev(s);
    try {
      const wal = /WAL: in-memory \((.+)\)/.exec(dev.out())![1]!;
      child.kill(signal);
      const code = await Promise.race([dev.exited, new Promise<string>((r) => setTimeout(() => r('still running'), 5000))]);
      assert.equal(code, 0, dev.err());
      assert.equal(existsSync(wal), false);
      assert.equal(existsSync(join(s.dir, '.faramesh', 'runtime', 'daemon.pid')), false);
    } finally {
      child.kill('SIGKILL');
    }
  });

test('faramesh dev on a stack never applied leaves no compiled policy behind', async () => {
  const s = makeStack();
  const { child, dev } = await startDev(s);
  try {
    child.kill('SIGINT');
    assert.equal(await dev.exited, 0);
    assert.equal(existsSync(join(s.dir, '.faramesh', 'governance.compiled.json')), false);
    assert.equal(existsSync(join(s.dir, '.faramesh', 'governance.compiled.sig')), false);
  } finally {
    child.kill('SIGKILL');
  }
});

test('a faramesh dev killed outright leaves its scratch log behind; the next dev removes it, and never a live one', async () => {
  const root = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const s = makeStack();
  const first = await startDev(s);
  const scratch = dirname(/WAL: in-memory \((.+)\)/.exec(first.dev.out())![1]!);
  first.child.kill('SIGKILL');
  await first.dev.exited;
  assert.ok(existsSync(scratch), 'SIGKILL gives dev no chance to clean up');
  // A scratch directory of a dev still running (this test's own pid stands in for it) stays.
  const live = mkdtempSync(join(root, `faramesh-dev-${process.pid}-`));
  try {
    const second = await startDev(s);
    try {
      assert.equal(existsSync(scratch), false, "the killed dev's log was removed");
      assert.ok(existsSync(live), "a running dev's was not");
    } finally {
      await stopDev(second.child, second.dev);
    }
  } finally {
    rmSync(live, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  }
});

test('faramesh dev refuses to start beside a running daemon of the same stack, which keeps running', async () => {
  const s = makeStack();
  try {
    assert.equal(s.cli('apply').code, 0);
    const second = s.cli('dev');
    assert.equal(second.code, 1);
    assert.match(second.stderr, /already runs this stack/);
    assert.equal((await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: {} })).effect, 'PERMIT');
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});

test('audit tail through the daemon: the operator socket serves the newest records and follows live ones; the agent socket has no such method', async () => {
  const s = makeStack();
  try {
    assert.equal(s.cli('apply').code, 0);
    await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: {} });
    const op = join(s.dir, '.faramesh', 'runtime', 'operator.sock');
    const page = await operatorCall<{ records: string[]; next: number }>(op, 'audit.tail', { effect: 'permit' });
    assert.equal(page.records.length, 1);
    const before = await s.govern({ agent_id: 'bot', tool: 'stripe', operation: 'payouts', args: {} });
    const follow = s.spawnCli('audit', 'tail', '--effect', 'deny', '--limit', '1');
    const tail = collect(follow);
    const json = collect(s.spawnCli('audit', 'tail', '--format', 'json', '--limit', '1'));
    // The newest deny is printed first: from then on the tail is following.
    await until('the tail to start', () => tail.out().includes(before.action_id!), 15_000);
    await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: {} });
    const denied = await s.govern({ agent_id: 'bot', tool: 'stripe', operation: 'payouts', args: {} });
    await until('the live deny', () => tail.out().includes(denied.action_id!));
    await until('the live deny in JSON', () => json.out().includes(denied.action_id!.replace(/^action-/, '')));
    assert.doesNotMatch(tail.out(), /PERMIT/);
    // Stopping the daemon ends the tail cleanly.
    assert.equal(s.cli('apply', '--stop').code, 0);
    assert.equal(await tail.exited, 0, tail.err());
    assert.match(tail.err(), /the daemon stopped/);
    // With --format json, stdout is JSON Lines to the end: the notice goes to stderr.
    assert.equal(await json.exited, 0, json.err());
    const lines = json.out().trim().split('\n');
    assert.ok(
      lines.some((l) => l.includes(denied.action_id!.replace(/^action-/, ''))),
      json.out(),
    );
    for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), `not JSON: ${line}`);
    assert.match(json.err(), /the daemon stopped/);
    // A stopped daemon's log is still read from its files.
    const files = s.cli('audit', 'tail', '--no-follow', '--effect', 'deny');
    assert.match(files.stdout, new RegExp(denied.action_id!));

    assert.equal(s.cli('apply').code, 0);
    const refused = JSON.parse(await s.raw(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'audit.tail', params: {} }))) as {
      error?: { code: number };
    };
    assert.equal(refused.error?.code, -32601);
    assert.deepEqual(
      readdirSync(join(s.dir, '.faramesh', 'runtime')).filter((f) => f === 'wal.path'),
      ['wal.path'],
    );
    assert.equal(readFileSync(join(s.dir, '.faramesh', 'runtime', 'wal.path'), 'utf8').trim(), join(s.dir, 'wal'));
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});

test('faramesh dev contacts no provider: stub credentials, the stack key for checkpoints, no sink, no alert; their env() need not be set', async () => {
  const hits: string[] = [];
  const listener = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.end('{}');
  });
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
  const s = makeStack(
    POLICY.replace(
      '}\n\nagent "bot" {',
      `}

provider "vault" {
  type  = "vault"
  addr  = "${url}"
  token = env("DEV_TEST_UNSET_VAULT_TOKEN")
}

provider "splunk" {
  type  = "splunk-sink"
  url   = "${url}"
  token = env("DEV_TEST_UNSET_HEC_TOKEN")
  index = "x"
}

provider "signing" {
  type    = "kms"
  backend = "aws-kms"
  key_arn = "arn:aws:kms:us-west-2:123456789012:key/abc"
}

agent "bot" {
  credential "db" {
    provider = "vault"
    path     = "payments/db"
    tools    = ["ticket/read"]
  }
  alert {
    on     = "deny"
    notify = "slack://#sec"
  }`,
    ),
    { FARAMESH_SLACK_WEBHOOK_URL: `${url}/slack` },
  );
  const { child, dev } = await startDev(s);
  try {
    assert.match(dev.out(), /providers declared \(vault \(vault\), splunk \(splunk-sink\), signing \(kms\)\): not contacted in dev/);
    const read = await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: {} });
    assert.equal(read.effect, 'PERMIT');
    assert.equal((read.credential as { value: string }).value, 'Bearer STUB-db');
    assert.equal((await s.govern({ agent_id: 'bot', tool: 'stripe', operation: 'payouts', args: {} })).effect, 'DENY');
    await until('the alert to be said', () => dev.err().includes('alert deny → slack://#sec (faramesh dev: not sent)'));
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(hits, [], 'nothing reached the providers');
  } finally {
    await stopDev(child, dev);
    listener.close();
  }
});

test('a policy left behind by a killed faramesh dev is loaded by no other daemon: serve refuses it, apply replaces it', async () => {
  const s = makeStack();
  try {
    assert.equal(s.cli('apply').code, 0);
    assert.equal(s.cli('apply', '--stop').code, 0);
    writeFileSync(join(s.dir, 'governance.fms'), PAYOUTS_PERMITTED(POLICY));
    const { child, dev } = await startDev(s);
    // Killed: nothing of dev's own runs to put the applied policy back (nor removes its scratch log).
    child.kill('SIGKILL');
    await dev.exited;
    rmSync(dirname(/WAL: in-memory \((.+)\)/.exec(dev.out())![1]!), { recursive: true, force: true });
    const serve = s.cli('serve');
    assert.notEqual(serve.code, 0);
    assert.match(serve.stdout + serve.stderr, /faramesh dev tried, left behind when dev was killed: run faramesh apply/);
    const applied = s.cli('apply');
    assert.equal(applied.code, 0, applied.stderr);
    assert.equal(
      (await s.govern({ agent_id: 'bot', tool: 'stripe', operation: 'payouts', args: {} })).effect,
      'PERMIT',
      'what apply applied',
    );
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});
