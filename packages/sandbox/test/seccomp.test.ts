import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decode, encode, RET } from '../src/seccomp/bpf.js';
import { checkProgram, runProgram } from '../src/seccomp/check.js';
import { AF, agentFilter, IPPROTO, SOCK, TIOC } from '../src/seccomp/filter.js';
import { type Arch, AUDIT_ARCH, DENIED, hostArch, MODE_CALLS, NR } from '../src/seccomp/syscalls.js';
import { which } from '../src/layers.js';

const golden = (arch: Arch) => new URL(`../../test/golden/agent-filter-${arch}.hex`, import.meta.url);
const EPERM = RET.errno(1);
const ENOSYS = RET.errno(38);

for (const arch of ['x86_64', 'aarch64'] as const) {
  describe(`the agent's seccomp filter (${arch})`, () => {
    const program = agentFilter(arch);
    const call = (name: keyof (typeof NR)[typeof arch], ...args: (number | bigint)[]) =>
      runProgram(program, { arch: AUDIT_ARCH[arch], nr: NR[arch][name], args });

    it('matches its golden bytes (a change to the filter is a reviewed change to this file)', () => {
      const hex = encode(program).toString('hex');
      if (process.env.UPDATE_GOLDEN) writeFileSync(golden(arch), `${hex}\n`);
      assert.equal(hex, readFileSync(golden(arch), 'utf8').trim());
      assert.deepEqual(decode(encode(program)), program);
    });

    it('is well formed: every jump lands inside, every path returns', () => {
      assert.deepEqual(checkProgram(program), []);
    });

    it('refuses every listed syscall with EPERM and lets the rest through', () => {
      for (const name of Object.keys(DENIED) as (keyof typeof DENIED)[]) assert.equal(call(name), EPERM, name);
      for (const nr of [0, 1, 2, 3, 9, 59, 60, 62, 200, 231, 434, 444, 445, 446])
        if (!Object.values(NR[arch]).includes(nr)) assert.equal(runProgram(program, { arch: AUDIT_ARCH[arch], nr }), RET.allow, `nr ${nr}`);
    });

    it('kills a syscall from another architecture', () => {
      assert.equal(runProgram(program, { arch: 0x40000003 /* i386 */, nr: 37 }), RET.killProcess);
      if (arch === 'x86_64') assert.equal(runProgram(program, { arch: AUDIT_ARCH.x86_64, nr: 0x40000000 | 62 }), RET.killProcess);
    });

    it('refuses namespaces through clone, and clone3 as ENOSYS so libc falls back', () => {
      assert.equal(call('clone', 0x01200011 /* fork's flags */), RET.allow);
      assert.equal(call('clone', 0x10000000 /* CLONE_NEWUSER */ | 0x11), EPERM);
      assert.equal(call('clone', 0x40000000 /* CLONE_NEWNET */), EPERM);
      assert.equal(call('clone3'), ENOSYS);
    });

    it('allows Unix sockets and plain TCP only: packet, netlink, vsock, raw, UDP and MPTCP fail', () => {
      assert.equal(call('socket', AF.PACKET, SOCK.RAW), EPERM);
      assert.equal(call('socket', AF.NETLINK, 2), EPERM);
      assert.equal(call('socket', 2 /* INET */, SOCK.RAW), EPERM);
      assert.equal(call('socket', 10 /* INET6 */, SOCK.RAW | 0x80000 /* CLOEXEC */), EPERM);
      assert.equal(call('socket', 2, 1 /* STREAM */), RET.allow);
      assert.equal(call('socket', 2, 2 /* DGRAM */ | 0x800 /* NONBLOCK */), EPERM);
      assert.equal(call('socket', 10, 2 /* DGRAM */), EPERM);
      assert.equal(call('socket', 10, 1 /* STREAM */), RET.allow);
      assert.equal(call('socket', 1 /* UNIX */, 2 /* DGRAM */), RET.allow);
      assert.equal(call('socket', 1 /* UNIX */, 1), RET.allow);
      assert.equal(call('socket', AF.VSOCK, 1 /* STREAM */), EPERM, 'vsock reaches the hypervisor');
      assert.equal(call('socket', 31 /* BLUETOOTH */, 1), EPERM);
      assert.equal(call('socket', 2, 1, IPPROTO.MPTCP), EPERM, 'MPTCP escapes Landlock TCP rules');
      assert.equal(call('socket', 10, 1 | 0x80000, IPPROTO.MPTCP), EPERM);
      assert.equal(call('socket', 2, 1, IPPROTO.TCP), RET.allow);
      assert.equal(call('socket', 2, 5 /* SEQPACKET */), EPERM);
    });

    it('refuses a setuid or setgid mode on every call that sets one; openat2 is ENOSYS', () => {
      for (const [nr, arg] of MODE_CALLS[arch]) {
        const at = (mode: number) => {
          const args = [0, 0, 0, 0];
          args[arg] = mode;
          return runProgram(program, { arch: AUDIT_ARCH[arch], nr, args });
        };
        assert.equal(at(0o4755), EPERM, `nr ${nr} setuid`);
        assert.equal(at(0o2755), EPERM, `nr ${nr} setgid`);
        assert.equal(at(0o755), RET.allow, `nr ${nr} plain`);
        assert.equal(at(0o1777), RET.allow, `nr ${nr} sticky`);
      }
      assert.equal(runProgram(program, { arch: AUDIT_ARCH[arch], nr: 437 }), ENOSYS);
    });

    it('refuses TIOCSTI and TIOCLINUX, whatever the high bits of the request', () => {
      assert.equal(call('ioctl', 0, TIOC.STI), EPERM);
      assert.equal(call('ioctl', 0, (1n << 32n) | BigInt(TIOC.STI)), EPERM);
      assert.equal(call('ioctl', 0, TIOC.LINUX), EPERM);
      assert.equal(call('ioctl', 0, 0x5401 /* TCGETS */), RET.allow);
    });
  });
}

describe('the checker', () => {
  it('finds jumps past the end, a missing return, loads outside seccomp_data and unknown opcodes', () => {
    const bad = [
      { code: 0x20, jt: 0, jf: 0, k: 64 },
      { code: 0x15, jt: 5, jf: 0, k: 1 },
      { code: 0x99, jt: 0, jf: 0, k: 0 },
      { code: 0x54, jt: 0, jf: 0, k: 1 },
    ];
    const problems = checkProgram(bad).join('\n');
    assert.match(problems, /0: load at 64 is outside seccomp_data/);
    assert.match(problems, /1: jump \+5 lands past the end/);
    assert.match(problems, /2: unknown opcode 0x99/);
    assert.match(problems, /3: falls off the end/);
    assert.match(problems, /last instruction is not a return/);
  });
});

const arch = hostArch();
const bwrap = which('bwrap');
describe('the kernel loads it', { skip: !arch || !bwrap ? 'needs bubblewrap on x86-64 or arm64' : false }, () => {
  it('a sandboxed shell runs under it, and a denied syscall fails', () => {
    const dir = mkdtempSync(join(tmpdir(), 'faramesh-seccomp-'));
    const file = join(dir, 'filter.bpf');
    writeFileSync(file, encode(agentFilter(arch!)));
    const r = spawnSync(
      'sh',
      [
        '-c',
        `exec bwrap --ro-bind / / --dev /dev --proc /proc --unshare-all --seccomp 9 -- sh -c 'grep Seccomp: /proc/self/status; unshare -U true' 9<${file}`,
      ],
      { encoding: 'utf8' },
    );
    assert.match(r.stdout, /Seccomp:\s+2/);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /Operation not permitted/);
  });
});
