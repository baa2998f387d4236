import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildPlan, shownInSandbox, type SandboxSpec, unreadableByOthers } from '../src/plan.js';

const stack = mkdtempSync(join(tmpdir(), 'fm-plan-'));
writeFileSync(join(stack, 'governance.fms'), '');
const spec = (over: Partial<SandboxSpec> = {}): SandboxSpec => ({
  profile: 'full',
  stackDir: stack,
  readOnly: [join(stack, 'governance.fms')],
  hidden: [
    { path: join(stack, '.faramesh'), dir: true },
    { path: join(stack, 'wal'), dir: true },
  ],
  installRoot: '/opt/faramesh',
  helper: '/opt/faramesh/bin/faramesh-sandbox',
  bwrap: '/usr/bin/bwrap',
  seccompFile: join(stack, '.faramesh', 'runtime', 'seccomp.bpf'),
  agentSockets: [
    { agent: 'a', socket: '/run/faramesh/x/agent-a.sock' },
    { agent: 'b', socket: '/run/faramesh/x/agent-b.sock' },
  ],
  relays: [
    { kind: 'http', port: 3128, socket: '/run/faramesh/x/http.sock' },
    { kind: 'http', port: 4000, socket: '/run/faramesh/x/http-b.sock', agent: 'b' },
  ],
  env: [
    { agent: '*', name: 'HTTP_PROXY', value: 'http://127.0.0.1:3128' },
    { agent: 'b', name: 'HTTP_PROXY', value: 'http://127.0.0.1:4000' },
  ],
  allowEnv: ['PATH'],
  denyEnv: ['AWS_*'],
  ...over,
});

/** The plan as directives: [name, operands…]. */
function directives(bytes: Buffer): string[][] {
  const t = bytes.toString('utf8').split('\0').slice(0, -1);
  const arity: Record<string, number> = { env: 2 };
  const out: string[][] = [];
  for (let i = 0; i < t.length; i += 1 + (arity[t[i]!] ?? 1)) out.push(t.slice(i, i + 1 + (arity[t[i]!] ?? 1)));
  return out;
}
const bwrapArgs = (bytes: Buffer) =>
  directives(bytes)
    .filter((d) => d[0] === 'arg')
    .map((d) => d[1])
    .join(' ');

describe('the sandbox plan', () => {
  it("hides every file under /etc other users cannot read: an agent launched by root keeps the owner's rights there", () => {
    const args = bwrapArgs(buildPlan(spec()).bytes);
    const masked = (p: string) => args.includes(`--ro-bind /dev/null ${p}`) || args.includes(`--tmpfs ${p} --remount-ro ${p}`);
    // Found independently of the plan (host keys, TLS keys, /etc/security/opasswd, …).
    const found = spawnSync('find', ['/etc', '-xdev', '-type', 'f', '!', '-perm', '-o=r'], { encoding: 'utf8' }).stdout.split('\n');
    for (const f of found.filter(Boolean)) {
      const ancestors = f.split('/').map((_, n, parts) => parts.slice(0, n + 1).join('/'));
      assert.ok(ancestors.some(masked), `${f} is shown to the agent`);
    }
  });

  it('finds what others cannot read: files without their read bit, directories they cannot enter', () => {
    const etc = mkdtempSync(join(tmpdir(), 'fm-etc-'));
    mkdirSync(join(etc, 'ssh'));
    writeFileSync(join(etc, 'ssh', 'ssh_config'), '', { mode: 0o644 });
    writeFileSync(join(etc, 'ssh', 'ssh_host_ed25519_key'), 'key', { mode: 0o600 });
    mkdirSync(join(etc, 'private'), { mode: 0o710 });
    writeFileSync(join(etc, 'private', 'tls.key'), 'key', { mode: 0o644 });
    symlinkSync('/etc/shadow', join(etc, 'link'));
    assert.deepEqual(unreadableByOthers(etc), [
      { path: join(etc, 'private'), dir: true },
      { path: join(etc, 'ssh', 'ssh_host_ed25519_key'), dir: false },
    ]);
  });

  it('mounts the workspace, then covers the policy (read-only) and the daemon files (hidden)', () => {
    const args = bwrapArgs(buildPlan(spec()).bytes);
    const at = (s: string) => args.indexOf(s);
    assert.ok(at(`--bind ${stack} ${stack}`) > 0);
    assert.ok(at(`--ro-bind ${stack}/governance.fms`) > at(`--bind ${stack} ${stack}`));
    assert.ok(at(`--tmpfs ${stack}/.faramesh --remount-ro ${stack}/.faramesh`) > at(`--bind ${stack} ${stack}`));
    assert.match(args, new RegExp(`--tmpfs ${stack}/wal --remount-ro`));
    assert.match(args, /--unshare-user --unshare-pid --unshare-ipc --unshare-uts --unshare-net/);
    assert.match(args, /--disable-userns --assert-userns-disabled --cap-drop ALL/);
  });

  it("scopes an agent's own relay and proxy to that agent, after the shared ones", () => {
    const d = directives(buildPlan(spec()).bytes).map((x) => x.join(' '));
    const forB = d.indexOf('for b');
    assert.ok(forB > 0);
    assert.equal(d[forB + 1], 'arg --bind');
    assert.ok(d.includes('env HTTP_PROXY http://127.0.0.1:3128'));
    assert.ok(d.indexOf('env HTTP_PROXY http://127.0.0.1:4000') > d.indexOf('env HTTP_PROXY http://127.0.0.1:3128'));
    assert.equal(d.filter((x) => x === 'for *').length, 4, 'two agent sockets, a relay, an environment');
  });

  it("binds each agent's own mirror of the agent socket for that agent only, and lists the agents it may start", () => {
    const d = directives(buildPlan(spec()).bytes).map((x) => x.join(' '));
    assert.deepEqual(
      d.filter((x) => x.startsWith('known ')),
      ['known a', 'known b'],
    );
    for (const agent of ['a', 'b']) {
      const at = d.indexOf(`for ${agent}`);
      assert.deepEqual(d.slice(at, at + 5), [
        `for ${agent}`,
        'arg --bind',
        `arg /run/faramesh/x/agent-${agent}.sock`,
        'arg /run/faramesh/faramesh.sock',
        'for *',
      ]);
    }
    assert.equal(d.filter((x) => x === 'arg /run/faramesh/faramesh.sock').length, 2, 'no socket bound for every agent');
  });

  it('the full profile requires Landlock ABI 6 with TCP rules and scopes; minimal only ABI 1', () => {
    const inner = (p: SandboxSpec) =>
      directives(buildPlan(p).bytes)
        .filter((d) => d[0] === 'inner')
        .map((d) => d[1])
        .join(' ');
    assert.match(inner(spec()), /--min-abi 6 --net --scope/);
    assert.match(inner(spec({ profile: 'minimal' })), /--min-abi 1 --ro \//);
    assert.doesNotMatch(inner(spec({ profile: 'minimal' })), /--scope/);
    assert.match(inner(spec({ minAbi: 99 })), /--min-abi 99/);
  });

  it('in the minimal profile, code under /tmp or the hidden home is bound again (a tmpfs covers it)', () => {
    const home = mkdtempSync(join('/var/tmp', 'fm-home-')); // not under /tmp, which is private anyway
    const args = bwrapArgs(buildPlan(spec({ profile: 'minimal', installRoot: '/tmp/somewhere/faramesh', home })).bytes);
    assert.ok(args.includes(`--ro-bind / / --tmpfs ${home} `));
    assert.ok(args.includes('--ro-bind-try /tmp/somewhere/faramesh /tmp/somewhere/faramesh'));
    const inHome = bwrapArgs(buildPlan(spec({ profile: 'minimal', installRoot: `${home}/faramesh`, home })).bytes);
    assert.ok(inHome.includes(`--ro-bind-try ${home}/faramesh ${home}/faramesh`));
  });

  it('the home is judged where it really is, and made read-only after every mount point in it; sockets where they lead', () => {
    const real = mkdtempSync(join('/var/tmp', 'fm-realhome-'));
    const link = join(mkdtempSync(join('/var/tmp', 'fm-link-')), 'home');
    symlinkSync(real, link);
    const stackDir = join(real, 'proj');
    mkdirSync(stackDir);
    const wal = join(real, 'wal');
    const args = bwrapArgs(buildPlan(spec({ profile: 'minimal', stackDir, home: link, hidden: [{ path: wal, dir: true }] })).bytes);
    assert.ok(args.includes(`--tmpfs ${real} `), 'mounted on its real path');
    assert.ok(args.indexOf(`--remount-ro ${real}`) > args.indexOf(`--tmpfs ${wal}`), 'after the hidden log under it');
    const minimal = spec({ profile: 'minimal', home: link });
    assert.equal(shownInSandbox(minimal, join(link, '.faramesh', 'runtime', 'faramesh.sock')), false, 'in the hidden home');
    assert.equal(shownInSandbox(minimal, '/srv/other-stack/.faramesh/runtime/operator.sock'), true, 'the host view shows it');
    if (existsSync('/var/run') && realpathSync('/var/run') === '/run')
      assert.equal(shownInSandbox(minimal, '/var/run/fm.sock'), false, '/var/run is /run, private in the sandbox');
    assert.equal(shownInSandbox(spec(), join(stack, 'agent.sock')), true, 'the workspace');
    assert.equal(shownInSandbox(spec(), join(stack, '.faramesh', 'runtime', 'agent.sock')), false, 'under .faramesh/');
  });

  it('in the minimal profile the home is hidden even when the stack is inside it: the workspace alone is bound again', () => {
    const home = mkdtempSync(join('/var/tmp', 'fm-home-')); // not under /tmp, which is private anyway
    const stackDir = join(home, 'proj');
    mkdirSync(stackDir);
    const args = bwrapArgs(buildPlan(spec({ profile: 'minimal', stackDir, home })).bytes);
    const at = (s: string) => args.indexOf(s);
    assert.ok(at(`--tmpfs ${home} `) > at('--ro-bind / /'), 'the home is covered');
    assert.ok(at(`--bind ${stackDir} ${stackDir}`) > at(`--tmpfs ${home} `), 'then the workspace is shown on it');
    assert.ok(at(`--remount-ro ${home}`) > at(`--bind ${stackDir} ${stackDir}`), 'and only then is the tmpfs made read-only');
  });
});
