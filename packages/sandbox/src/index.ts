export { Assembler, decode, encode, type Insn, RET } from './seccomp/bpf.js';
export { checkProgram, runProgram, type SyscallData } from './seccomp/check.js';
export { agentFilter } from './seccomp/filter.js';
export { type Arch, AUDIT_ARCH, DENIED, hostArch, NR } from './seccomp/syscalls.js';
export {
  BASE_ENV_ALLOW,
  buildPlan,
  DAEMON_ENV,
  DEFAULT_INNER_PORT,
  type Plan,
  type Profile,
  type Relay,
  SANDBOX_AGENT_SOCKET,
  SANDBOX_HOME,
  type SandboxSpec,
  shownInSandbox,
} from './plan.js';
export { type Layer, probeLayers, which } from './layers.js';
export { HELPER_PATH } from './helper.js';
