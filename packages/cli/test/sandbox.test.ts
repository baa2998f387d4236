/**
 * The OS tier on Linux, against a live daemon: a hostile agent started through .faramesh/bin/agent
 * tries to kill, trace or read the daemon, read its keys and log, write outside its workspace or into
 * the policy (directly, through symlinks and hard links), reach the network around the proxy, open
 * raw sockets, make namespaces, call bpf/io_uring/keyctl, push terminal input, gain privilege through
 * a setuid binary and find ambient credentials; all of it must fail. Its workspace, its own children,
 * the daemon's socket and the proxy (allowed URL yes, denied one EGRESS_DENIED) must work. The daemon
 * is alive and unchanged afterwards. Run as the same uid (namespaces, no capabilities) and under UID
 * separation (FARAMESH_AGENT_UID). Plus: a missing layer fails the launch, naming it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  mkdirSync,
  openSync,
  closeSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, inspectedStack, makeStack, selfSignedCert, type Stack } from './daemon-helpers.js';

const linux = process.platform === 'linux';
const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures');
const PROBE_DIR = mkdtempSync(join(tmpdir(), 'fm-probe-'));
const PROBE = join(PROBE_DIR, 'hostile-probe');
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const SDK = join(REPO, 'packages', 'sdk', 'dist', 'src', 'index.js');
const CLI = join(REPO, 'packages', 'cli', 'bin', 'faramesh.js');

const AMBIENT = {
  AWS_SECRET_ACCESS_KEY: 'aws-secret',
  VAULT_TOKEN: 'hvs.secret',
  GITHUB_TOKEN: 'ghp_secret',
  FARAMESH_SMTP_URL: 'smtp://user:daemon-secret@mail',
  FARAMESH_TOKEN: 'registry-token',
  OPERATOR_SECRET: 'not-allowlisted',
  MODEL_KEY: 'model-key',
  PATH: process.env.PATH!,
  LANG: 'C.UTF-8',
};

const run = (file: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(file, args, { encoding: 'utf8', timeout: 30_000, ...opts }, (e, stdout, stderr) =>
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr }),
    ),
  );

/** A shell script run as the agent, through the stack's launcher, from its workspace. */
const asAgent = (s: Stack, script: string, env: NodeJS.ProcessEnv = AMBIENT) =>
  run(join(s.dir, '.faramesh', 'bin', 'agent'), ['--', 'sh', '-c', script], { env, cwd: s.dir });

const policy = (extra: string, proxy: number) => `runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
  os_tier = true
  agent_env = ["MODEL_KEY"]
${extra}}

agent "a" {
  default deny
  enforcement {
    http_proxy_port = ${proxy}
  }
  rules {
    permit shell/echo
    permit http/get
  }
  egress {
    allow = ["127.0.0.1", "blocked.example"]
    deny  = ["blocked.example"]
  }
}
`;

/** The attempts the seccomp program refuses: they must fail with its EPERM (not some other error). */
const SECCOMP_EPERM = [
  'raw_socket',
  'packet_socket',
  'netlink_socket',
  'unshare_user',
  'unshare_net',
  'unshare_mount',
  'bpf',
  'io_uring',
  'keyctl',
  'tiocsti',
  'ptrace_attach',
];
/** Outcomes the sandbox must produce: every attempt here fails... */
const MUST_FAIL = [
  'kill',
  'tkill',
  'tgkill',
  'pidfd_send_signal',
  'kill_process_group',
  'ptrace_attach',
  'proc_mem',
  'proc_environ',
  'read_key',
  'read_wal',
  'read_compiled',
  'write_etc',
  'create_etc',
  'write_home',
  'truncate_sibling',
  'truncate_policy',
  'rename_policy',
  'write_launcher',
  'symlink_policy',
  'symlink_etc',
  'hardlink_policy',
  'hardlink_etc',
  'tcp_loopback',
  'udp_loopback',
  'tcp_outside',
  'udp_outside',
  ...SECCOMP_EPERM.filter((n) => n !== 'ptrace_attach'),
  'env_AWS_SECRET_ACCESS_KEY',
  'env_VAULT_TOKEN',
  'env_GITHUB_TOKEN',
  'env_FARAMESH_SMTP_URL',
  'env_OPERATOR_SECRET',
];
/** ...and these succeed. */
const MUST_SUCCEED = ['write_workspace', 'signal_own_child', 'govern', 'tty_setup'];

const outsideIp = () =>
  Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address ?? '192.0.2.1';

describe('the OS tier: a hostile agent in the sandbox', { skip: !linux ? 'Linux only' : false }, () => {
  const udpSeen: string[] = [];
  const tcpSeen: string[] = [];
  const udp = createSocket('udp4', (m) => udpSeen.push(m.toString()));
  const tcp = createTcpServer((c) => (tcpSeen.push('connection'), c.destroy()));
  const upstream = createHttpServer((req, res) => res.end(`hello from ${req.url}`));
  let up = 0;

  before(async () => {
    const cc = spawnSync('cc', ['-O2', '-o', PROBE, join(FIXTURES, 'hostile-probe.c')], { encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', () => r()));
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
    up = (upstream.address() as { port: number }).port;
  });
  after(() => {
    udp.close();
    tcp.close();
    upstream.close();
  });

  for (const mode of ['same uid', 'uid separation'] as const) {
    describe(mode, () => {
      let s: Stack;
      let sibling: string;
      let policyBefore: string;
      let versionBefore: string;
      const separated = mode === 'uid separation';

      before(async () => {
        s = makeStack(policy('', await freePort()), separated ? { FARAMESH_AGENT_UID: '65534' } : {});
        const applied = s.cli('apply');
        assert.equal(applied.code, 0, applied.stderr + applied.stdout);
        assert.match(applied.stdout, /OS tier: full: namespaces/);
        policyBefore = readFileSync(join(s.dir, 'governance.fms'), 'utf8');
        versionBefore = JSON.parse(readFileSync(join(s.dir, '.faramesh', 'governance.compiled.json'), 'utf8')).policy_version;
        // The agent runs its own copy from its workspace (the operator makes the workspace the agent user's).
        copyFileSync(PROBE, join(s.dir, 'probe'));
        chmodSync(join(s.dir, 'probe'), 0o755);
        if (separated) {
          chownSync(s.dir, 65534, 65534);
          copyFileSync(PROBE, join(s.dir, 'setuid-probe'));
          chmodSync(join(s.dir, 'setuid-probe'), 0o4755);
        }
        sibling = join(mkdtempSync(join(dirname(s.dir), 'fm-sibling-')), 'data');
        writeFileSync(sibling, 'sibling');
      });
      after(() => {
        s.cli('apply', '--stop');
        s.stop();
      });

      test('every attack fails, the agent keeps what it needs, and the daemon is untouched', async () => {
        const keys = join(s.dir, '.faramesh', 'keys');
        const wal = join(s.dir, 'wal');
        const args = [
          `daemon_pid=${s.pid()}`,
          `stack=${s.dir}`,
          `keyfile=${join(keys, readdirSync(keys)[0]!)}`,
          `walfile=${join(
            wal,
            readdirSync(wal).find((f) => !f.endsWith('.lock'))!,
          )}`,
          `sibling=${sibling}`,
          `home=${process.env.HOME ?? '/root'}`,
          `tcp_port=${(tcp.address() as { port: number }).port}`,
          `udp_port=${udp.address().port}`,
          `outside_ip=${outsideIp()}`,
          ...(separated ? [`setuid_copy=${join(s.dir, 'setuid-probe')}`] : []),
        ];
        const r = await run(join(s.dir, '.faramesh', 'bin', 'agent'), ['--', join(s.dir, 'probe'), ...args], { env: AMBIENT, cwd: s.dir });
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /faramesh: sandbox full: .*landlock ABI \d+/);
        const outcome = new Map(
          r.stdout
            .trim()
            .split('\n')
            .map((l) => [l.split(' ')[0]!, l] as const),
        );
        const wrong = [
          ...MUST_FAIL.filter((n) => !/ fail/.test(outcome.get(n) ?? ' fail(missing)')).map((n) => outcome.get(n)),
          ...MUST_SUCCEED.filter((n) => outcome.get(n) !== `${n} ok`).map((n) => outcome.get(n) ?? `${n} missing`),
          ...SECCOMP_EPERM.filter((n) => outcome.get(n) !== `${n} fail Operation not permitted`).map(
            (n) => `${outcome.get(n)} (not EPERM)`,
          ),
          ...(separated && !/^setuid_escalation fail euid 65534$/.test(outcome.get('setuid_escalation') ?? '')
            ? [outcome.get('setuid_escalation') ?? 'setuid_escalation missing']
            : []),
        ];
        assert.deepEqual(wrong, [], `probe output:\n${r.stdout}`);
        for (const n of MUST_FAIL) assert.ok(outcome.has(n), `${n} was not attempted`);

        // Nothing left the sandbox, and nothing outside it changed.
        await new Promise((resolve) => setTimeout(resolve, 100));
        assert.deepEqual(udpSeen, []);
        assert.deepEqual(tcpSeen, []);
        assert.equal(readFileSync(sibling, 'utf8'), 'sibling');
        assert.equal(existsSync('/etc/faramesh-probe'), false);
        assert.equal(existsSync(join(process.env.HOME ?? '/root', 'faramesh-probe')), false);
        assert.equal(readFileSync(join(s.dir, 'governance.fms'), 'utf8'), policyBefore);
        assert.equal(existsSync(join(s.dir, 'workspace-file')), true);
        process.kill(s.pid(), 0);
        const { daemon } = JSON.parse((await s.cliAsync('status', '--format', 'json')).stdout) as {
          daemon: { state: string; policy_version: string; os_tier: { enabled: boolean; mechanism: string } };
        };
        assert.equal(daemon.state, 'READY');
        assert.equal(daemon.os_tier.enabled, true);
        assert.match(daemon.os_tier.mechanism, /^namespaces\+seccomp/, 'the summary status.md shows');
        assert.equal(daemon.policy_version, versionBefore);
        const verify = await s.cliAsync('audit', 'verify');
        assert.equal(verify.code, 0, verify.stdout + verify.stderr);
      });

      test('the proxy is the only way out: an allowed URL is fetched, a denied one is EGRESS_DENIED', async () => {
        const agent = join(s.dir, '.faramesh', 'bin', 'agent');
        const ok = await run(agent, ['--', 'curl', '-s', `http://127.0.0.1:${up}/allowed`], { env: AMBIENT, cwd: s.dir });
        assert.equal(ok.stdout, 'hello from /allowed', ok.stderr);
        const denied = await run(agent, ['--', 'curl', '-s', '-w', '\n%{http_code}', 'http://blocked.example/'], {
          env: AMBIENT,
          cwd: s.dir,
        });
        assert.match(denied.stdout, /EGRESS_DENIED[\s\S]*\n403$/);
        // Around the proxy there is nothing at all.
        const direct = await run(agent, ['--', 'curl', '-s', '--noproxy', '*', '-m', '5', `http://127.0.0.1:${up}/direct`], {
          env: AMBIENT,
        });
        assert.notEqual(direct.code, 0);
      });

      test('a Node agent with @faramesh/sdk is governed from inside; __agent-exec is the same path', async () => {
        writeFileSync(
          join(s.dir, 'agent.mjs'),
          `import { governedTools } from ${JSON.stringify(SDK)};
const tools = governedTools({ 'shell/echo': async (a) => 'echo ' + a.text, rm: async () => 'removed' }, { agentId: 'a' });
console.log(await tools['shell/echo']({ text: 'hi' }));
await tools.rm({}).then(console.log, (e) => console.log('denied', e.code));
`,
        );
        const direct = await run(join(s.dir, '.faramesh', 'bin', 'agent'), ['--', 'node', 'agent.mjs'], { env: AMBIENT, cwd: s.dir });
        assert.equal(direct.stdout, 'echo hi\ndenied POLICY_DENY\n', direct.stderr);
        const viaCli = await run(process.execPath, [CLI, '__agent-exec', '--dir', s.dir, '--', 'node', 'agent.mjs'], {
          env: AMBIENT,
          cwd: s.dir,
        });
        assert.equal(viaCli.stdout, direct.stdout, viaCli.stderr);
        assert.match(viaCli.stderr, /faramesh: sandbox full/);
      });

      test('the agent inherits no descriptor its launcher held open (a file outside its view)', async () => {
        const fd = openSync(sibling, 'r');
        try {
          const child = spawn(join(s.dir, '.faramesh', 'bin', 'agent'), ['--', 'sh', '-c', 'cat <&7 || echo no-descriptor'], {
            env: AMBIENT,
            cwd: s.dir,
            stdio: ['ignore', 'pipe', 'pipe', 'ignore', 'ignore', 'ignore', 'ignore', fd],
          });
          let out = '';
          child.stdout!.on('data', (d) => (out += d));
          child.stderr!.resume();
          const code = await new Promise((r) => child.once('close', r));
          assert.equal(code, 0);
          assert.equal(out, 'no-descriptor\n', 'the sandboxed agent read a file outside its view through an inherited descriptor');
        } finally {
          closeSync(fd);
        }
      });

      test('the environment is built from the allowlist, FARAMESH_* and agent_env', async () => {
        const r = await run(join(s.dir, '.faramesh', 'bin', 'agent'), ['--', 'env'], {
          env: { ...AMBIENT, FARAMESH_TRACE: 'x' },
          cwd: s.dir,
        });
        const env = Object.fromEntries(
          r.stdout
            .trim()
            .split('\n')
            .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
        );
        assert.equal(env.MODEL_KEY, 'model-key');
        assert.equal(env.LANG, 'C.UTF-8');
        assert.equal(env.FARAMESH_TRACE, 'x');
        assert.equal(env.FARAMESH_SOCKET, '/run/faramesh/faramesh.sock');
        assert.equal(env.FARAMESH_AGENT_ID, 'a');
        assert.equal(env.HOME, '/tmp/home');
        for (const k of ['AWS_SECRET_ACCESS_KEY', 'VAULT_TOKEN', 'GITHUB_TOKEN', 'FARAMESH_SMTP_URL', 'FARAMESH_TOKEN', 'OPERATOR_SECRET'])
          assert.equal(env[k], undefined, k);
      });
    });
  }
});

describe('the OS tier fails closed, naming the layer it cannot apply', { skip: !linux ? 'Linux only' : false }, () => {
  const launch = async (env: Record<string, string>, damage?: (s: Stack) => void) => {
    const s = makeStack(policy('', await freePort()), env);
    try {
      const applied = s.cli('apply');
      assert.equal(applied.code, 0, applied.stderr + applied.stdout);
      damage?.(s);
      const r = await asAgent(s, 'echo AGENT-RAN');
      return { ...r, applied };
    } finally {
      s.cli('apply', '--stop');
      s.stop();
    }
  };

  test('no bubblewrap: apply warns, the launch refuses', async () => {
    const r = await launch({ FARAMESH_BWRAP: '/nonexistent/bwrap' });
    assert.match(r.applied.stderr, /OS tier: namespaces unavailable/);
    assert.notEqual(r.code, 0);
    assert.doesNotMatch(r.stdout, /AGENT-RAN/);
    assert.match(r.stderr, /sandbox layer 'namespaces' unavailable .*bubblewrap/);
  });

  test('a Landlock ABI older than required: the launch refuses', async () => {
    const r = await launch({ FARAMESH_LANDLOCK_MIN_ABI: '99' });
    assert.notEqual(r.code, 0);
    assert.doesNotMatch(r.stdout, /AGENT-RAN/);
    assert.match(r.stderr, /sandbox layer 'landlock' unavailable: the kernel offers ABI \d+, this profile needs 99/);
  });

  test('a seccomp program the kernel refuses: the launch refuses', async () => {
    const r = await launch({}, (s) => truncateSync(join(s.dir, '.faramesh', 'runtime', 'seccomp.bpf'), 3));
    assert.notEqual(r.code, 0);
    assert.doesNotMatch(r.stdout, /AGENT-RAN/);
    assert.match(r.stderr, /seccomp/i);
  });
});

test(
  'several agents: the launching agent (FARAMESH_AGENT_ID) gets its own proxy relay, and an agent socket where it alone speaks',
  { skip: !linux },
  async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    const agent = (id: string, port: number) => `agent "${id}" {
  default deny
  enforcement {
    http_proxy_port = ${port}
  }
}
`;
    const s = makeStack(
      `runtime {\n  wal_dir = "./wal"\n  socket  = "./.faramesh/runtime/agent.sock"\n  os_tier = true\n}\n\n${agent('a', pa)}\n${agent('b', pb)}`,
    );
    try {
      assert.equal(s.cli('apply').code, 0);
      const launcher = join(s.dir, '.faramesh', 'bin', 'agent');
      const env = async (id?: string) =>
        (
          await run(
            launcher,
            [
              '--',
              'sh',
              '-c',
              `echo "$FARAMESH_AGENT_ID $HTTP_PROXY"; for p in ${pa} ${pb}; do [ -S /run/faramesh/http-$p.sock ] && echo $p; done`,
            ],
            {
              env: { ...AMBIENT, ...(id ? { FARAMESH_AGENT_ID: id } : {}) },
              cwd: s.dir,
            },
          )
        ).stdout;
      assert.equal(await env('b'), `b http://127.0.0.1:${pb}\n${pb}\n`);
      assert.equal(await env('a'), `a http://127.0.0.1:${pa}\n${pa}\n`);
      // No agent named, or one the stack does not have: nothing starts.
      const nobody = await run(launcher, ['--', 'sh', '-c', 'echo AGENT-RAN'], { env: AMBIENT, cwd: s.dir });
      assert.notEqual(nobody.code, 0);
      assert.doesNotMatch(nobody.stdout, /AGENT-RAN/);
      assert.match(nobody.stderr, /several agents: set FARAMESH_AGENT_ID/);
      const stranger = await run(launcher, ['--', 'sh', '-c', 'echo AGENT-RAN'], {
        env: { ...AMBIENT, FARAMESH_AGENT_ID: 'c' },
        cwd: s.dir,
      });
      assert.notEqual(stranger.code, 0);
      assert.match(stranger.stderr, /FARAMESH_AGENT_ID names 'c', which is not an agent of this stack/);
      // Inside a's sandbox the agent socket is a's own: speaking as b there is refused, as a it is decided.
      const speak = (as: string) =>
        `require('net').createConnection(process.env.FARAMESH_SOCKET).on('data', (d) => process.stdout.write(d)).end(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'govern', params: { agent_id: '${as}', tool: 'x', args: {} } }) + '\\n')`;
      const asB = await run(launcher, ['--', process.execPath, '-e', speak('b')], {
        env: { ...AMBIENT, FARAMESH_AGENT_ID: 'a' },
        cwd: s.dir,
      });
      assert.match(asB.stdout, /"code":-32602,"message":"this socket speaks for agent a only, not b"/, asB.stderr);
      const asA = await run(launcher, ['--', process.execPath, '-e', speak('a')], {
        env: { ...AMBIENT, FARAMESH_AGENT_ID: 'a' },
        cwd: s.dir,
      });
      assert.match(asA.stdout, /"effect":"DENY"/, asA.stderr);
      // An agent added by a hot-swapping apply can reach the daemon from its sandbox at once.
      writeFileSync(
        join(s.dir, 'governance.fms'),
        `${readFileSync(join(s.dir, 'governance.fms'), 'utf8')}\nagent "c" {\n  default deny\n}\n`,
      );
      const swapped = s.cli('apply');
      assert.equal(swapped.code, 0, swapped.stderr);
      assert.match(swapped.stdout, /hot-swapped/);
      const asC = await run(launcher, ['--', process.execPath, '-e', speak('c')], {
        env: { ...AMBIENT, FARAMESH_AGENT_ID: 'c' },
        cwd: s.dir,
      });
      assert.match(asC.stdout, /"effect":"DENY"/, asC.stderr);
    } finally {
      s.cli('apply', '--stop');
      s.stop();
    }
  },
);

test(
  'the minimal profile: the host read-only but the home hidden, the daemon files hidden, the policy read-only',
  { skip: !linux },
  async () => {
    const home = mkdtempSync(join(tmpdir(), 'fm-home-'));
    writeFileSync(join(home, 'credentials'), 'aws-secret');
    const s = makeStack(
      `runtime {\n  wal_dir = "./wal"\n  socket  = "./.faramesh/runtime/agent.sock"\n  os_tier = true\n  agent_enforce_profile = "minimal"\n}\n\nagent "a" {\n  default deny\n}\n`,
      { HOME: home },
    );
    try {
      const applied = s.cli('apply');
      assert.equal(applied.code, 0, applied.stderr);
      assert.match(applied.stdout, /OS tier: minimal: .*host read-only/);
      const r = await asAgent(
        s,
        `test -r /var/lib/dpkg/status -o -d /var && echo host-visible
cat ${home}/credentials 2>/dev/null || echo home-hidden
ls -A .faramesh | wc -l
echo x >> governance.fms 2>/dev/null || echo policy-read-only
echo ok > mine && echo workspace-writable`,
      );
      assert.equal(r.stdout, 'host-visible\nhome-hidden\n0\npolicy-read-only\nworkspace-writable\n', r.stderr);
    } finally {
      s.cli('apply', '--stop');
      s.stop();
    }
  },
);

test(
  'the minimal profile with the stack inside the home: the rest of the home is hidden, the key set and lock read-only',
  { skip: !linux },
  async () => {
    // The stack in a directory of the home, as `~/proj` usually is.
    const home = mkdtempSync(join('/var/tmp', 'fm-home-'));
    writeFileSync(join(home, 'credentials'), 'aws-secret');
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = home;
    const s = makeStack(
      `runtime {\n  wal_dir = "./wal"\n  os_tier = true\n  agent_enforce_profile = "minimal"\n}\n\nidentity "corp" {\n  type = "oidc"\n  issuer = "https://idp.example.test"\n  audience = "faramesh"\n  jwks_file = "./jwks.json"\n}\n\nagent "a" {\n  default deny\n}\n`,
      { HOME: home },
    );
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
    writeFileSync(
      join(s.dir, 'jwks.json'),
      JSON.stringify({ keys: [{ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' }] }),
    );
    writeFileSync(join(s.dir, 'governance.fms.lock'), '{"format":"faramesh-lock/1","imports":{}}\n');
    try {
      const applied = s.cli('apply');
      assert.equal(applied.code, 0, applied.stderr);
      const r = await asAgent(
        s,
        `cat ${home}/credentials 2>/dev/null || echo home-hidden
test -e ${home}/.faramesh && echo default-socket-dir-visible || echo default-socket-dir-hidden
echo x >> jwks.json 2>/dev/null || echo keys-read-only
echo x >> governance.fms.lock 2>/dev/null || echo lock-read-only
echo ok > mine && echo workspace-writable`,
        { ...AMBIENT, HOME: home },
      );
      assert.equal(r.stdout, 'home-hidden\ndefault-socket-dir-hidden\nkeys-read-only\nlock-read-only\nworkspace-writable\n', r.stderr);
    } finally {
      s.cli('apply', '--stop');
      s.stop();
    }
  },
);

test(
  'a key set in a workspace subdirectory cannot be swapped by renaming the directory; one behind a symlink is refused',
  { skip: !linux },
  async () => {
    const identity = (file: string) =>
      `runtime {\n  wal_dir = "./wal"\n  os_tier = true\n}\n\nidentity "corp" {\n  type = "oidc"\n  issuer = "https://idp.example.test"\n  audience = "faramesh"\n  jwks_file = "${file}"\n}\n\nagent "a" {\n  default deny\n}\n`;
    const jwks = JSON.stringify({ keys: [{ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' }] });
    const s = makeStack(identity('./keys/jwks.json'));
    try {
      mkdirSync(join(s.dir, 'keys'));
      writeFileSync(join(s.dir, 'keys', 'jwks.json'), jwks);
      assert.equal(s.cli('apply').code, 0);
      const r = await asAgent(
        s,
        'mv keys keys.old 2>/dev/null || echo cannot-move; echo x > keys/planted 2>/dev/null || echo read-only; echo x > governance.fms.lock && echo lock-written',
      );
      assert.equal(r.stdout, 'cannot-move\nread-only\nlock-written\n', r.stderr);
      assert.equal(readFileSync(join(s.dir, 'keys', 'jwks.json'), 'utf8'), jwks);
      // A lock the agent wrote changes nothing for a policy without imports.
      assert.equal(s.cli('apply').code, 0, 'the stray lock is not read');
      assert.equal(s.cli('apply', '--stop').code, 0);
      renameSync(join(s.dir, 'keys'), join(s.dir, 'real-keys'));
      symlinkSync(join(s.dir, 'real-keys'), join(s.dir, 'keys'));
      const refused = s.cli('apply');
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /keys is a symlink in the agents' workspace/);
      rmSync(join(s.dir, 'keys'));
      renameSync(join(s.dir, 'real-keys'), join(s.dir, 'keys'));
      // The policy itself behind a symlink: its read-only mount would land on the target.
      renameSync(join(s.dir, 'governance.fms'), join(s.dir, 'policy.txt'));
      symlinkSync(join(s.dir, 'policy.txt'), join(s.dir, 'governance.fms'));
      const linked = s.cli('apply');
      assert.equal(linked.code, 1);
      assert.match(linked.stderr, /governance\.fms is not a regular file/);
    } finally {
      s.cli('apply', '--stop');
      s.stop();
    }
    // A key set named through env() is protected as one written out.
    const named = makeStack(identity('env("JWKS")').replace('"env("JWKS")"', 'env("JWKS")'), { JWKS: './keys/jwks.json' });
    try {
      mkdirSync(join(named.dir, 'keys'));
      writeFileSync(join(named.dir, 'keys', 'jwks.json'), jwks);
      const applied = named.cli('apply');
      assert.equal(applied.code, 0, applied.stderr);
      assert.equal((await asAgent(named, 'echo x > keys/planted 2>/dev/null || echo read-only')).stdout, 'read-only\n');
    } finally {
      named.cli('apply', '--stop');
      named.stop();
    }
  },
);

test(
  'a wal_dir in a workspace subdirectory cannot be moved away and replaced: the daemon never writes where the agent chose',
  { skip: !linux },
  async () => {
    const s = makeStack(`runtime {\n  wal_dir = "./data/wal"\n  os_tier = true\n}\n\nagent "a" {\n  default deny\n}\n`);
    const victim = join(mkdtempSync(join(tmpdir(), 'fm-victim-')), 'file');
    writeFileSync(victim, 'untouched');
    try {
      const applied = s.cli('apply');
      assert.equal(applied.code, 0, applied.stderr);
      const r = await asAgent(
        s,
        `mv data data.old 2>/dev/null && echo moved || echo cannot-move
mkdir -p data/wal 2>/dev/null; ln -s ${victim} data/wal/.snapshot.json.tmp 2>/dev/null && echo planted || echo cannot-plant`,
      );
      assert.equal(r.stdout, 'cannot-move\ncannot-plant\n', r.stderr);
      assert.equal(s.cli('apply', '--stop').code, 0);
      assert.equal(readFileSync(victim, 'utf8'), 'untouched');
      assert.ok(existsSync(join(s.dir, 'data', 'wal', 'snapshot.json')), 'the snapshot is in the real log directory');
    } finally {
      s.cli('apply', '--stop');
      s.stop();
    }
  },
);

test('an agent_write_paths entry inside the read-only entry that holds a wal_dir stays writable', { skip: !linux }, async () => {
  const s = makeStack(
    `runtime {\n  wal_dir = "./data/wal"\n  os_tier = true\n  agent_write_paths = ["./data/out"]\n}\n\nagent "a" {\n  default deny\n}\n`,
  );
  mkdirSync(join(s.dir, 'data', 'out'), { recursive: true });
  try {
    const applied = s.cli('apply');
    assert.equal(applied.code, 0, applied.stderr);
    const r = await asAgent(
      s,
      `touch data/out/x 2>/dev/null && echo wrote || echo cannot-write
mv data data.old 2>/dev/null && echo moved || echo cannot-move
touch data/y 2>/dev/null && echo wrote-data || echo data-read-only`,
    );
    assert.equal(r.stdout, 'wrote\ncannot-move\ndata-read-only\n', r.stderr);
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});

test("apply refuses a stdio mcp_server that would run from the agents' workspace, outside the sandbox", { skip: !linux }, async () => {
  const outside = mkdtempSync(join(tmpdir(), 'fm-mcp-cwd-'));
  const port = await freePort();
  const stack = (cwd: string) =>
    `runtime {\n  wal_dir = "./wal"\n  os_tier = true\n  mcp_proxy_port = ${port}\n}\n\nmcp_server "files" {\n  command = "npx"\n  args = ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"]\n${cwd}}\n\nagent "a" {\n  default deny\n}\n`;
  const s = makeStack(stack(''));
  try {
    // By default the server runs from the stack directory: a node_modules/.bin an agent writes there is what npx runs.
    const refused = s.cli('apply');
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(refused.stderr, /mcp_server "files" would run from .*, which sandboxed agents can write/);
    writeFileSync(join(s.dir, 'governance.fms'), stack('  cwd = "./tools"\n'));
    assert.match(s.cli('apply').stderr, /mcp_server "files" would run from .*tools, which sandboxed agents can write/);
    // A PATH entry agents can write, searched before npx's own directory, could hold another npx.
    const pathed = `  cwd = ${JSON.stringify(outside)}\n  env = { PATH = ${JSON.stringify(`${join(s.dir, 'bin')}:${process.env.PATH}`)} }\n`;
    writeFileSync(join(s.dir, 'governance.fms'), stack(pathed));
    assert.match(s.cli('apply').stderr, /mcp_server "files" runs npx looked up in PATH, whose entry .*bin sandboxed agents can write/);
    writeFileSync(join(s.dir, 'governance.fms'), stack(`  cwd = ${JSON.stringify(outside)}\n`));
    const applied = s.cli('apply');
    assert.equal(applied.code, 0, applied.stderr);
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});

test('apply refuses a stdio mcp_server whose cwd or PATH reaches outside through a path agents can rewrite', { skip: !linux }, async () => {
  const outside = mkdtempSync(join(tmpdir(), 'fm-mcp-link-'));
  const port = await freePort();
  const stack = (server: string) =>
    `runtime {\n  wal_dir = "./wal"\n  os_tier = true\n  mcp_proxy_port = ${port}\n}\n\nmcp_server "files" {\n  command = "npx"\n  args = ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"]\n${server}}\n\nagent "a" {\n  default deny\n}\n`;
  const s = makeStack(stack(`  cwd = "./tools"\n`));
  try {
    // ./tools is a link to a directory outside; the link itself is in the workspace, and the daemon
    // starts each session's server at ./tools: an agent that points the link at its own directory
    // has its node_modules/.bin run with the daemon's rights.
    symlinkSync(outside, join(s.dir, 'tools'));
    const viaLink = s.cli('apply');
    assert.equal(viaLink.code, 1, viaLink.stdout);
    assert.match(viaLink.stderr, /mcp_server "files" would run from .*tools, which sandboxed agents can write/);
    // A PATH entry through such a link is the same.
    symlinkSync(outside, join(s.dir, 'bin'));
    const pathed = `  cwd = ${JSON.stringify(outside)}\n  env = { PATH = ${JSON.stringify(`${join(s.dir, 'bin')}:${process.env.PATH}`)} }\n`;
    writeFileSync(join(s.dir, 'governance.fms'), stack(pathed));
    assert.match(s.cli('apply').stderr, /mcp_server "files" runs npx looked up in PATH, whose entry .*bin sandboxed agents can write/);
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});

test('apply refuses an agent socket the sandbox would show; a symlink planted as *.fms is never bound', { skip: !linux }, async () => {
  const s = makeStack(
    `runtime {\n  wal_dir = "./wal"\n  socket = "./faramesh.sock"\n  os_tier = true\n}\n\nagent "a" {\n  default deny\n}\n`,
  );
  try {
    const refused = s.cli('apply');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /runtime\.socket .*faramesh\.sock would be visible to sandboxed agents/);
    writeFileSync(
      join(s.dir, 'governance.fms'),
      readFileSync(join(s.dir, 'governance.fms'), 'utf8').replace('  socket = "./faramesh.sock"\n', ''),
    );
    // As if an agent had left it in the workspace before this apply.
    symlinkSync('/etc/shadow', join(s.dir, 'shadow.fms'));
    assert.equal(s.cli('apply').code, 0);
    const r = await asAgent(s, 'cat /etc/shadow 2>/dev/null | wc -c');
    assert.equal(r.stdout.trim(), '0', `/etc/shadow stays masked: ${r.stderr}`);
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});

test(
  'TLS inspection from inside the sandbox: curl trusts the stack CA with no flags; each request is decided and gets its credential',
  { skip: !linux },
  async () => {
    const tls = selfSignedCert(mkdtempSync(join(tmpdir(), 'fm-sbx-tls-')), 'upstream');
    const seen: string[] = [];
    const upstream = createHttpsServer({ key: readFileSync(tls.key), cert: readFileSync(tls.cert) }, (req, res) => {
      seen.push(`${req.url} ${String(req.headers['x-api-key'])}`);
      res.end(`secure ${req.url}`);
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
    const up = (upstream.address() as { port: number }).port;
    const s = makeStack(inspectedStack('a', await freePort(), '  os_tier          = true\n'), { NODE_EXTRA_CA_CERTS: tls.cert });
    try {
      const applied = s.cli('apply');
      assert.equal(applied.code, 0, applied.stderr + applied.stdout);
      const r = await asAgent(
        s,
        `curl -s -S https://127.0.0.1:${up}/ok/1; echo; curl -s -S -o /dev/null -w '%{http_code}' https://127.0.0.1:${up}/admin`,
      );
      assert.equal(r.stdout, 'secure /ok/1\n403', r.stderr);
      assert.deepEqual(seen, ['/ok/1 STUB-api'], 'the permitted request went on with its credential; the denied one never left');
    } finally {
      s.cli('apply', '--stop');
      s.stop();
      upstream.close();
    }
  },
);

test('MCP from inside the sandbox: over the relayed port and through `faramesh mcp`, governed', { skip: !linux }, async () => {
  const everything = createRequire(import.meta.url).resolve('@modelcontextprotocol/server-everything/dist/index.js');
  const sdk = (p: string) => JSON.stringify(createRequire(import.meta.url).resolve(`@modelcontextprotocol/sdk/${p}`));
  const s = makeStack(`runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
  os_tier = true
}

mcp_server "everything" {
  command = ${JSON.stringify(process.execPath)}
  args    = [${JSON.stringify(everything)}, "stdio"]
  cwd     = ${JSON.stringify(tmpdir())}
}

agent "a" {
  default deny
  enforcement {
    mcp_proxy_port = ${await freePort()}
  }
  rules {
    permit everything/echo
  }
}
`);
  writeFileSync(
    join(s.dir, 'client.mjs'),
    `import { Client } from ${sdk('client/index.js')};
import { StreamableHTTPClientTransport } from ${sdk('client/streamableHttp.js')};
import { StdioClientTransport } from ${sdk('client/stdio.js')};
const transports = {
  http: () => new StreamableHTTPClientTransport(new URL(process.env.FARAMESH_MCP_PROXY + '/mcp/everything')),
  bridge: () => new StdioClientTransport({ command: process.execPath, args: [${JSON.stringify(CLI)}, 'mcp', 'everything'], env: process.env }),
};
for (const [name, make] of Object.entries(transports)) {
  const client = new Client({ name: 'sandboxed', version: '1' });
  await client.connect(make());
  const echo = await client.callTool({ name: 'echo', arguments: { message: 'hi' } });
  const sum = await client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } });
  console.log(name, echo.content[0].text, sum.isError === true ? sum.structuredContent.code : 'not denied');
  await client.close();
}
`,
  );
  try {
    assert.equal(s.cli('apply').code, 0);
    const r = await run(join(s.dir, '.faramesh', 'bin', 'agent'), ['--', 'node', 'client.mjs'], { env: AMBIENT, cwd: s.dir });
    assert.equal(r.stdout, 'http Echo: hi POLICY_DENY\nbridge Echo: hi POLICY_DENY\n', r.stderr);
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});

test('agent_enforce_profile = "off": application tier only, and apply and status say so', { skip: !linux }, async () => {
  const s = makeStack(
    `runtime {\n  wal_dir = "./wal"\n  socket  = "./.faramesh/runtime/agent.sock"\n  os_tier = true\n  agent_enforce_profile = "off"\n}\n\nagent "a" {\n  default deny\n}\n`,
  );
  try {
    const applied = s.cli('apply');
    assert.match(applied.stdout, /OS tier: off \(agent_enforce_profile = "off"\): application tier only/);
    assert.equal(existsSync(join(s.dir, '.faramesh', 'runtime', 'sandbox.plan')), false);
    const r = await run(join(s.dir, '.faramesh', 'bin', 'agent'), ['--', 'sh', '-c', 'grep -E "^Seccomp:" /proc/self/status'], {
      env: AMBIENT,
    });
    assert.match(r.stdout, /^Seccomp:\s+0$/m);
    assert.match((await s.cliAsync('status')).stdout, /OS tier\n {2}off: application tier only/);
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});
