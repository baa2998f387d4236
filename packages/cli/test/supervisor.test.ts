/**
 * The agent supervisor, against a live daemon: `runtime { supervised_command }` starts after READY
 * through the same launcher (and sandbox) as .faramesh/bin/agent, with an allowlisted environment
 * (none of the daemon's secrets); a failing agent is restarted with backoff; DRAINING stops it with
 * SIGINT first; supervisor_launch, supervisor_list and supervisor_stop work on the operator channel.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { operatorCall } from '@faramesh/daemon';
import { alive, makeStack, until, type Stack } from './daemon-helpers.js';

const linux = process.platform === 'linux';

const policy = (runtime: string) => `runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
  os_tier = true
${runtime}}

agent "a" {
  default deny
  rules {
    permit shell/echo
  }
}
`;

/** An agent that notes each start and its environment, and leaves cleanly on SIGINT. */
const AGENT = `#!/bin/sh
# The trap first: a SIGINT that comes as soon as the start is noted must find it set.
trap 'echo INT >> stopped.txt; exit 0' INT
echo "start $(grep -E '^Seccomp:' /proc/self/status | tr -s '\\t ' ' ')" >> runs.txt
env > env.txt
[ "$1" = fail ] && exit 3
while true; do sleep 0.1; done
`;

const read = (s: Stack, f: string) => (existsSync(join(s.dir, f)) ? readFileSync(join(s.dir, f), 'utf8') : '');
const operator = (s: Stack, method: string, params: Record<string, unknown> = {}) =>
  operatorCall(join(s.dir, '.faramesh', 'runtime', 'operator.sock'), method, params) as Promise<Record<string, unknown>>;

describe('the agent supervisor', { skip: !linux ? 'Linux only' : false }, () => {
  describe('supervised_command', () => {
    let s: Stack;
    before(() => {
      s = makeStack(policy('  supervised_command = "sh ./agent.sh \'run forever\'"\n'), {
        FARAMESH_SMTP_URL: 'smtp://user:daemon-secret@mail',
        VAULT_TOKEN: 'hvs.daemon',
        LANG: 'C.UTF-8',
      });
      writeFileSync(join(s.dir, 'agent.sh'), AGENT, { mode: 0o755 });
      const applied = s.cli('apply');
      assert.equal(applied.code, 0, applied.stderr + applied.stdout);
    });
    after(() => s.stop());

    test('starts after READY, in the sandbox, with none of the daemon secrets', async () => {
      await until('the supervised agent', () => read(s, 'env.txt').includes('FARAMESH_SOCKET'), 10_000);
      assert.match(read(s, 'runs.txt'), /^start Seccomp: 2$/m);
      const env = read(s, 'env.txt');
      assert.match(env, /^FARAMESH_ENFORCE_PROFILE=full$/m);
      assert.match(env, /^LANG=C.UTF-8$/m);
      assert.doesNotMatch(env, /daemon-secret|hvs\.daemon/);
      const { children } = (await operator(s, 'supervisor_list')) as { children: { id: string; state: string; argv: string[] }[] };
      assert.equal(children.length, 1);
      assert.equal(children[0]!.state, 'running');
      assert.deepEqual(children[0]!.argv, ['sh', './agent.sh', 'run forever']);
      const status = JSON.parse((await s.cliAsync('status', '--format', 'json')).stdout) as {
        supervisor: unknown[];
        os_tier: { profile: string; layers: { layer: string; available: boolean; detail: string }[] };
      };
      assert.equal(status.supervisor.length, 1);
      assert.equal(status.os_tier.profile, 'full');
      const layer = (n: string) => status.os_tier.layers.find((l) => l.layer === n);
      assert.equal(layer('namespaces')?.available, true);
      assert.equal(layer('landlock')?.available, true);
      assert.equal(layer('seccomp')?.available, true);
      // Probed, never claimed: the eBPF LSM is reported unavailable with its reason.
      assert.equal(layer('ebpf-lsm')?.available, false);
      assert.ok(layer('ebpf-lsm')!.detail.length > 0);
      const text = (await s.cliAsync('status')).stdout;
      assert.match(text, /OS tier \(profile full\)/);
      assert.match(text, /ebpf-lsm\s+unavailable/);
    });

    test('supervisor_launch and supervisor_stop: another child, stopped with SIGINT', async () => {
      const launched = (await operator(s, 'supervisor_launch', { command: ['sh', './agent.sh'] })) as { id: string };
      await until(
        'the supervisor',
        async () => ((await operator(s, 'supervisor_list')) as { children: unknown[] }).children.length === 2,
        5000,
      );
      await until('the supervised agent', () => read(s, 'runs.txt').trim().split('\n').length >= 2, 10_000);
      const stopped = (await operator(s, 'supervisor_stop', { id: launched.id })) as { children: { state: string }[] };
      assert.equal(stopped.children[0]!.state, 'stopped');
      assert.match(read(s, 'stopped.txt'), /^INT$/m);
      await assert.rejects(operator(s, 'supervisor_stop', { id: 'agent-99' }), /no supervised agent agent-99/);
      const listed = await s.cliAsync('supervisor', 'list');
      assert.match(listed.stdout, /agent-1\s+running\s+\d+\s+0\s+—\s+sh \.\/agent\.sh run forever/);
      assert.match(listed.stdout, new RegExp(`${launched.id}\\s+stopped`));
      const json = JSON.parse((await s.cliAsync('supervisor', 'list', '--format', 'json')).stdout) as {
        children: { id: string; state: string; pid?: number; restarts: number; argv: string[] }[];
      };
      assert.deepEqual(
        json.children.map((c) => [c.id, c.state, c.restarts, c.argv]),
        [
          ['agent-1', 'running', 0, ['sh', './agent.sh', 'run forever']],
          [launched.id, 'stopped', 0, ['sh', './agent.sh']],
        ],
      );
      assert.equal(typeof json.children[0]!.pid, 'number');
    });

    test('DRAINING stops the supervised agent (SIGINT first) before the daemon exits', async () => {
      const before = read(s, 'stopped.txt').split('\n').filter(Boolean).length;
      const stopped = await s.cliAsync('apply', '--stop');
      assert.equal(stopped.code, 0, stopped.stderr);
      assert.equal(read(s, 'stopped.txt').split('\n').filter(Boolean).length, before + 1);
    });
  });

  test('without the OS tier the agent still gets none of the daemon secrets; a call during the drain is DAEMON_NOT_READY', async () => {
    // An agent that ignores SIGINT: the drain waits for SIGTERM, half its 10 s grace later.
    const STUBBORN = `#!/bin/sh\ntrap '' INT\ntrap 'exit 0' TERM\nenv > env.txt\nwhile true; do sleep 0.1; done\n`;
    const s = makeStack(
      policy('  supervised_command = "sh ./agent.sh"\n  http_listen = "127.0.0.1:0"\n').replace('  os_tier = true\n', ''),
      { FARAMESH_SMTP_URL: 'smtp://user:daemon-secret@mail', OPERATOR_SECRET: 'op-secret', LANG: 'C.UTF-8' },
    );
    writeFileSync(join(s.dir, 'agent.sh'), STUBBORN, { mode: 0o755 });
    try {
      assert.equal(s.cli('apply').code, 0);
      await until('the supervised agent', () => read(s, 'env.txt').includes('FARAMESH_SOCKET'), 10_000);
      const env = read(s, 'env.txt');
      assert.match(env, /^LANG=C.UTF-8$/m);
      assert.doesNotMatch(env, /daemon-secret|op-secret|OPERATOR_SECRET|FARAMESH_SMTP_URL/);
      const url = (JSON.parse((await s.cliAsync('status', '--format', 'json')).stdout) as { daemon: { http: string } }).daemon.http;
      const stopping = s.cliAsync('apply', '--stop');
      await until('DRAINING', async () => (await s.cliAsync('status', '-q')).stdout.trim() === '2', 5000);
      const r = await fetch(`${url}/v1/evaluate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ agent_id: 'a', tool: 'shell/echo', args: {} }),
      });
      const body = (await r.json()) as { effect: string; structured_denial?: { code: string; human_message: string } };
      assert.equal(body.effect, 'DENY');
      assert.equal(body.structured_denial?.code, 'DAEMON_NOT_READY');
      assert.match(body.structured_denial!.human_message, /daemon is stopping/);
      assert.equal((await stopping).code, 0);
    } finally {
      s.cli('apply', '--stop');
      s.stop();
    }
  });

  test('stopping the agent also stops the helper it left in its process group (no orphan outlives the daemon)', async () => {
    // The helper runs in the background, so it ignores SIGINT (as a shell's background jobs do), and
    // holds none of the agent's output: the agent itself exits on the first SIGINT.
    const LEAVES_HELPER = `#!/bin/sh\nsh -c 'echo $$ > helper.pid; exec sleep 1000' >/dev/null 2>&1 &\nexec sleep 2000\n`;
    const s = makeStack(policy('  supervised_command = "sh ./agent.sh"\n').replace('  os_tier = true\n', ''));
    writeFileSync(join(s.dir, 'agent.sh'), LEAVES_HELPER, { mode: 0o755 });
    let helper = 0;
    try {
      assert.equal(s.cli('apply').code, 0);
      await until('the helper', () => read(s, 'helper.pid').trim() !== '', 10_000);
      helper = Number(read(s, 'helper.pid'));
      const stopped = await s.cliAsync('apply', '--stop');
      assert.equal(stopped.code, 0, stopped.stderr);
      await until('the helper to be gone', () => !alive(helper), 3000);
    } finally {
      s.cli('apply', '--stop');
      s.stop();
      if (helper && alive(helper)) process.kill(helper, 'SIGKILL');
    }
  });

  test('an agent that crashes leaving a process that holds its output is seen exiting and restarted, and the daemon still stops', async () => {
    // The helper has a session of its own (no process-group sweep reaches it), ignores SIGINT and
    // SIGTERM, and keeps the agent's stdout and stderr open.
    const CRASHES = `#!/bin/sh\nsetsid sh -c 'trap "" INT TERM; exec sleep 1000' &\necho $! >> helper.pid\nsleep 0.2\nexit 3\n`;
    const s = makeStack(policy('  supervised_command = "sh ./agent.sh"\n').replace('  os_tier = true\n', ''));
    writeFileSync(join(s.dir, 'agent.sh'), CRASHES, { mode: 0o755 });
    const helpers = () => read(s, 'helper.pid').split('\n').filter(Boolean).map(Number);
    try {
      assert.equal(s.cli('apply').code, 0);
      await until(
        'the crash to be seen',
        async () => {
          const { children } = (await operator(s, 'supervisor_list')) as { children: { restarts: number; last_exit?: { code: number } }[] };
          return children[0]!.restarts >= 1 && children[0]!.last_exit?.code === 3;
        },
        10_000,
      );
      const stopped = await s.cliAsync('apply', '--stop');
      assert.equal(stopped.code, 0, stopped.stderr);
    } finally {
      for (const pid of helpers()) if (alive(pid)) process.kill(pid, 'SIGKILL');
      s.cli('apply', '--stop');
      s.stop();
    }
  });

  test('a failing agent is restarted with backoff; supervisor_restart = "never" leaves it down', async () => {
    const s = makeStack(policy('  supervised_command = "sh ./agent.sh fail"\n'));
    writeFileSync(join(s.dir, 'agent.sh'), AGENT, { mode: 0o755 });
    try {
      assert.equal(s.cli('apply').code, 0);
      await until('the supervised agent', () => read(s, 'runs.txt').trim().split('\n').length >= 3, 15_000);
      const { children } = (await operator(s, 'supervisor_list')) as {
        children: { restarts: number; last_exit: { code: number } }[];
      };
      assert.ok(children[0]!.restarts >= 2);
      assert.equal(children[0]!.last_exit.code, 3);
    } finally {
      s.cli('apply', '--stop');
      s.stop();
    }
    const never = makeStack(policy('  supervised_command = "sh ./agent.sh fail"\n  supervisor_restart = "never"\n'));
    writeFileSync(join(never.dir, 'agent.sh'), AGENT, { mode: 0o755 });
    try {
      assert.equal(never.cli('apply').code, 0);
      await until(
        'the supervisor',
        async () => ((await operator(never, 'supervisor_list')) as { children: { state: string }[] }).children[0]?.state === 'exited',
        10_000,
      );
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(read(never, 'runs.txt').trim().split('\n').length, 1);
    } finally {
      never.cli('apply', '--stop');
      never.stop();
    }
  });

  test('shell syntax in supervised_command is refused at apply', () => {
    const s = makeStack(policy('  supervised_command = "sh ./agent.sh | tee log"\n'));
    try {
      const r = s.cli('apply');
      assert.notEqual(r.code, 0);
      assert.match(r.stderr + r.stdout, /'\|' is shell syntax/);
    } finally {
      s.stop();
    }
  });
});
