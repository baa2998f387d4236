/**
 * The syscalls the agent's filter names, by architecture. Numbers are from the kernel's tables
 * (x86-64: arch/x86/entry/syscalls/syscall_64.tbl; arm64: the generic include/uapi/asm-generic/unistd.h).
 */

export type Arch = 'x86_64' | 'aarch64';

/** `AUDIT_ARCH_*`: what `seccomp_data.arch` holds for a native syscall. */
export const AUDIT_ARCH: Record<Arch, number> = {
  x86_64: 0xc000003e,
  aarch64: 0xc00000b7,
};

/** x32 syscalls on x86-64 carry this bit in `nr`; the filter refuses them all (they would dodge the table). */
export const X32_SYSCALL_BIT = 0x40000000;

/** Syscalls the filter refuses outright (EPERM), and why, for the golden test and the docs. */
export const DENIED = {
  // Reading or steering another process.
  ptrace: 'debug another process',
  process_vm_readv: "read another process's memory",
  process_vm_writev: "write another process's memory",
  process_madvise: "act on another process's memory",
  pidfd_getfd: "take another process's file descriptors",
  kcmp: 'compare kernel state of other processes',
  // Kernel attack surface an agent has no use for.
  bpf: 'load eBPF programs',
  perf_event_open: 'observe other processes and the kernel',
  userfaultfd: 'a classic exploit primitive',
  io_uring_setup: 'syscalls that seccomp cannot see',
  io_uring_enter: 'syscalls that seccomp cannot see',
  io_uring_register: 'syscalls that seccomp cannot see',
  keyctl: 'the kernel keyring',
  add_key: 'the kernel keyring',
  request_key: 'the kernel keyring',
  // The sandbox's own shape.
  mount: 'change the filesystem view',
  umount2: 'change the filesystem view',
  pivot_root: 'change the filesystem view',
  move_mount: 'change the filesystem view',
  open_tree: 'change the filesystem view',
  fsopen: 'change the filesystem view',
  fsconfig: 'change the filesystem view',
  fsmount: 'change the filesystem view',
  fspick: 'change the filesystem view',
  mount_setattr: 'change the filesystem view',
  unshare: 'create namespaces',
  setns: 'enter namespaces',
  open_by_handle_at: 'open files by handle, around the mount view',
  name_to_handle_at: 'open files by handle, around the mount view',
  // The machine itself.
  kexec_load: 'replace the kernel',
  kexec_file_load: 'replace the kernel',
  init_module: 'load kernel modules',
  finit_module: 'load kernel modules',
  delete_module: 'unload kernel modules',
  reboot: 'reboot the machine',
  swapon: 'change swap',
  swapoff: 'change swap',
  acct: 'process accounting',
  quotactl: 'disk quotas',
  quotactl_fd: 'disk quotas',
  syslog: 'read the kernel log',
  settimeofday: 'set the clock',
  clock_settime: 'set the clock',
  clock_adjtime: 'set the clock',
  adjtimex: 'set the clock',
  lookup_dcookie: 'kernel profiling',
} as const;

export type Syscall = keyof typeof DENIED | 'clone' | 'clone3' | 'socket' | 'ioctl';

/** Syscalls added since Linux 5.1 have one number on every architecture. */
const UNIFIED = {
  io_uring_setup: 425,
  io_uring_enter: 426,
  io_uring_register: 427,
  open_tree: 428,
  move_mount: 429,
  fsopen: 430,
  fsconfig: 431,
  fsmount: 432,
  fspick: 433,
  clone3: 435,
  pidfd_getfd: 438,
  process_madvise: 440,
  mount_setattr: 442,
  quotactl_fd: 443,
} as const;

export const NR: Record<Arch, Record<Syscall, number>> = {
  x86_64: {
    ...UNIFIED,
    ptrace: 101,
    process_vm_readv: 310,
    process_vm_writev: 311,
    kcmp: 312,
    bpf: 321,
    perf_event_open: 298,
    userfaultfd: 323,
    keyctl: 250,
    add_key: 248,
    request_key: 249,
    mount: 165,
    umount2: 166,
    pivot_root: 155,
    unshare: 272,
    setns: 308,
    open_by_handle_at: 304,
    name_to_handle_at: 303,
    kexec_load: 246,
    kexec_file_load: 320,
    init_module: 175,
    finit_module: 313,
    delete_module: 176,
    reboot: 169,
    swapon: 167,
    swapoff: 168,
    acct: 163,
    quotactl: 179,
    syslog: 103,
    settimeofday: 164,
    clock_settime: 227,
    clock_adjtime: 305,
    adjtimex: 159,
    lookup_dcookie: 212,
    clone: 56,
    socket: 41,
    ioctl: 16,
  },
  aarch64: {
    ...UNIFIED,
    ptrace: 117,
    process_vm_readv: 270,
    process_vm_writev: 271,
    kcmp: 272,
    bpf: 280,
    perf_event_open: 241,
    userfaultfd: 282,
    keyctl: 219,
    add_key: 217,
    request_key: 218,
    mount: 40,
    umount2: 39,
    pivot_root: 41,
    unshare: 97,
    setns: 268,
    open_by_handle_at: 265,
    name_to_handle_at: 264,
    kexec_load: 104,
    kexec_file_load: 294,
    init_module: 105,
    finit_module: 273,
    delete_module: 106,
    reboot: 142,
    swapon: 224,
    swapoff: 225,
    acct: 89,
    quotactl: 60,
    syslog: 116,
    settimeofday: 170,
    clock_settime: 112,
    clock_adjtime: 266,
    adjtimex: 171,
    lookup_dcookie: 18,
    clone: 220,
    socket: 198,
    ioctl: 29,
  },
};

/**
 * Calls that give a file its mode, by number, with the argument that holds the mode: a setuid or
 * setgid bit there is refused. The agent's files are the launching user's on the host, where no
 * mount is nosuid: a setuid copy of a shell left in the workspace would run as that user (as root,
 * when root launched the agent) for anyone on the machine.
 */
export const MODE_CALLS: Record<Arch, [nr: number, arg: number][]> = {
  // open, creat, chmod, fchmod, mknod, openat, mknodat, fchmodat, fchmodat2
  x86_64: [
    [2, 2],
    [85, 1],
    [90, 1],
    [91, 1],
    [133, 1],
    [257, 3],
    [259, 2],
    [268, 2],
    [452, 2],
  ],
  // mknodat, fchmod, fchmodat, openat, fchmodat2
  aarch64: [
    [33, 2],
    [52, 1],
    [53, 2],
    [56, 3],
    [452, 2],
  ],
};
/** openat2 passes its mode behind a pointer the filter cannot read: ENOSYS, so callers fall back to openat. */
export const OPENAT2 = 437;
/** S_ISUID | S_ISGID. */
export const SETID_BITS = 0o6000;

/** The machine's architecture as the filter names it, or undefined where there is no table. */
export function hostArch(arch = process.arch): Arch | undefined {
  return arch === 'x64' ? 'x86_64' : arch === 'arm64' ? 'aarch64' : undefined;
}
