/**
 * The agent's seccomp program: a deny-list over a default allow, checked per architecture.
 * - A syscall from another ABI (i386 or x32 on x86-64) kills the process: it would dodge the table.
 * - The syscalls in DENIED fail with EPERM.
 * - clone with any CLONE_NEW* flag fails (no namespaces); clone3 reports ENOSYS, so libc falls back
 *   to clone, whose flags the filter can read (clone3 passes them behind a pointer).
 * - socket: Unix sockets, and TCP over IPv4 or IPv6 (plain TCP: MPTCP escapes Landlock's TCP port
 *   rules). Every other family (packet, netlink, vsock — a way to the hypervisor the network
 *   namespace does not cover —, Bluetooth, …) and every other INET type (UDP, raw) fails.
 * - ioctl: no TIOCSTI or TIOCLINUX (pushing input into the terminal of whoever started the agent).
 * - no file gets a setuid or setgid bit (open, creat, mknod, chmod and their *at forms); openat2,
 *   whose mode the filter cannot read, reports ENOSYS.
 * Signals to processes outside the sandbox are stopped by the PID namespace and Landlock's signal
 * scope, which know which processes are foreign; a BPF filter cannot.
 */
import { Assembler, DATA, ERRNO, type Insn, RET } from './bpf.js';
import { type Arch, AUDIT_ARCH, DENIED, MODE_CALLS, NR, OPENAT2, SETID_BITS, X32_SYSCALL_BIT } from './syscalls.js';

/** CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET. */
export const CLONE_NEW_MASK = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000;
export const AF = { UNIX: 1, INET: 2, INET6: 10, NETLINK: 16, PACKET: 17, VSOCK: 40 } as const;
export const SOCK = { STREAM: 1, DGRAM: 2, RAW: 3, PACKET: 10, TYPE_MASK: 0xf } as const;
export const IPPROTO = { IP: 0, TCP: 6, MPTCP: 262 } as const;
export const TIOC = { STI: 0x5412, LINUX: 0x541c } as const;

export function agentFilter(arch: Arch): Insn[] {
  const nr = NR[arch];
  const a = new Assembler().load(DATA.arch).jeq(AUDIT_ARCH[arch], '', 'kill').load(DATA.nr);
  if (arch === 'x86_64') a.jge(X32_SYSCALL_BIT, 'kill');
  for (const name of Object.keys(DENIED) as (keyof typeof DENIED)[]) a.jeq(nr[name], 'deny');
  for (const [call, arg] of MODE_CALLS[arch]) a.jeq(call, `mode${arg}`);
  a.jeq(OPENAT2, 'enosys');
  a.jeq(nr.clone, 'clone').jeq(nr.clone3, 'enosys').jeq(nr.socket, 'socket').jeq(nr.ioctl, 'ioctl').ret(RET.allow);

  // No setuid or setgid file: on the host it would run with the launching user's (root's) rights.
  for (const arg of [...new Set(MODE_CALLS[arch].map(([, n]) => n))].sort())
    a.label(`mode${arg}`).load(DATA.argLow(arg)).jset(SETID_BITS, 'deny').ret(RET.allow);

  a.label('clone').load(DATA.argLow(0)).jset(CLONE_NEW_MASK, 'deny').ret(RET.allow);

  // An allow-list of families: a new one in the kernel is refused until reviewed.
  a.label('socket').load(DATA.argLow(0)).jeq(AF.UNIX, 'allow').jeq(AF.INET, 'inet').jeq(AF.INET6, 'inet').ret(RET.errno(ERRNO.EPERM));
  // The sandbox's only network is loopback to the proxy relays, which speak plain TCP: a stream
  // socket with protocol 0 or TCP, nothing else.
  a.label('inet')
    .load(DATA.argLow(1))
    .and(SOCK.TYPE_MASK)
    .jeq(SOCK.STREAM, '', 'deny')
    .load(DATA.argLow(2))
    .jeq(IPPROTO.IP, 'allow')
    .jeq(IPPROTO.TCP, 'allow')
    .ret(RET.errno(ERRNO.EPERM));
  a.label('allow').ret(RET.allow);

  // The request is an unsigned int in the tty layer: only its low 32 bits count.
  a.label('ioctl').load(DATA.argLow(1)).jeq(TIOC.STI, 'deny').jeq(TIOC.LINUX, 'deny').ret(RET.allow);

  a.label('deny').ret(RET.errno(ERRNO.EPERM));
  a.label('enosys').ret(RET.errno(ERRNO.ENOSYS));
  a.label('kill').ret(RET.killProcess);
  return a.assemble();
}
