/**
 * Where a stack's daemon keeps things. Everything the daemon trusts lives under `.faramesh/`
 * beside governance.fms (compiled policy, keys, state, runtime files); the log lives in
 * `runtime { wal_dir }`. The agent socket is the one path agents are given.
 */
import { createHash } from 'node:crypto';
import { homedir, tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

export interface StackPaths {
  stackDir: string;
  /** `.faramesh/`: written by apply, owned by the operator. */
  root: string;
  /** The signed compiled policy the daemon loads (it never reads governance.fms). */
  compiled: string;
  /** The signed note over the compiled policy's hash. */
  signature: string;
  /** Every compiled policy ever applied, by version: what rollback re-applies. */
  versions: string;
  runtime: string;
  pid: string;
  /** The operator channel: a socket only the operator's user can open. */
  operatorSocket: string;
  log: string;
  /** While a daemon runs: the WAL directory it writes (a `faramesh dev` log lives outside the stack). */
  walPointer: string;
  agentEnv: string;
  cliPath: string;
  launcher: string;
  /** Approvals and engine state snapshots (never in wal_dir, which holds only the log). */
  state: string;
  /** Hashes of the HTTP bearer tokens. */
  tokens: string;
  /** What apply writes for the OS tier: the sandbox plan and the agent's seccomp program. */
  sandboxPlan: string;
  seccomp: string;
  /**
   * Sockets bound into agents' sandboxes (the agent socket's and the proxies' mirrors, see proxyMirror):
   * outside `.faramesh/`, on a short path every user can traverse (but not list), so the sandbox of an
   * agent running as its own user can bind them.
   */
  mirrors: string;
}

export function stackPaths(stackDir: string): StackPaths {
  const dir = resolve(stackDir);
  const root = join(dir, '.faramesh');
  const runtime = join(root, 'runtime');
  return {
    stackDir: dir,
    root,
    compiled: join(root, 'governance.compiled.json'),
    signature: join(root, 'governance.compiled.sig'),
    versions: join(root, 'versions'),
    runtime,
    pid: join(runtime, 'daemon.pid'),
    operatorSocket: join(runtime, 'operator.sock'),
    log: join(runtime, 'daemon.log'),
    walPointer: join(runtime, 'wal.path'),
    agentEnv: join(runtime, 'agent.env'),
    cliPath: join(runtime, 'cli.path'),
    launcher: join(root, 'bin', 'agent'),
    state: join(root, 'state'),
    tokens: join(root, 'keys', 'tokens.json'),
    sandboxPlan: join(runtime, 'sandbox.plan'),
    seccomp: join(runtime, 'seccomp.bpf'),
    mirrors: sandboxRunDir(dir),
  };
}

/** `/run/faramesh/<hash of the stack dir>` for root, else under XDG_RUNTIME_DIR or the temp dir. */
function sandboxRunDir(stackDir: string): string {
  const id = createHash('sha256').update(stackDir).digest('hex').slice(0, 16);
  const uid = process.getuid?.() ?? 0;
  const base = uid === 0 ? '/run/faramesh' : join(process.env.XDG_RUNTIME_DIR ?? tmpdir(), `faramesh-${uid}`);
  return join(base, id);
}

/**
 * An agent's own mirror of the agent socket, for sandboxed agents: same protocol, same daemon, but
 * every call on it is that agent's (named by a hash: agent ids need not be file names).
 */
export const agentSocketMirror = (paths: StackPaths, agent: string) =>
  join(paths.mirrors, `agent-${createHash('sha256').update(agent).digest('hex').slice(0, 12)}.sock`);

/**
 * Where agents find the stack's proxy CA (TLS inspection): the certificate alone
 * (NODE_EXTRA_CA_CERTS) and with the system's roots (SSL_CERT_FILE and the like). Beside the
 * mirrors, so a sandboxed agent can be shown them.
 */
export const proxyCaFiles = (mirrors: string) => ({ cert: join(mirrors, 'proxy-ca.pem'), bundle: join(mirrors, 'proxy-ca-bundle.pem') });

/**
 * The Unix socket that mirrors a proxy's port for sandboxed agents, who have no network: the shared
 * port's, or an agent's own (named by a hash: agent ids need not be file names). Traffic on it is
 * treated exactly as traffic on the port.
 */
export function proxyMirror(paths: StackPaths, kind: 'http' | 'mcp', agent?: string): string {
  const id = agent === undefined ? '' : `-${createHash('sha256').update(agent).digest('hex').slice(0, 12)}`;
  return join(paths.mirrors, `${kind}${id}.sock`);
}

/** `~/…` and stack-relative paths made absolute. */
export function resolveStackPath(path: string, stackDir: string): string {
  if (path === '~' || path.startsWith('~/')) return join(homedir(), path.slice(1));
  return isAbsolute(path) ? path : resolve(stackDir, path);
}

export const DEFAULT_AGENT_SOCKET = '~/.faramesh/runtime/faramesh.sock';
export const DEFAULT_WAL_DIR = './faramesh-wal';
