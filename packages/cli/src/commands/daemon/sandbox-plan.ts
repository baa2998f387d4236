/**
 * The OS tier's artifacts, written by apply when `runtime { os_tier = true }`: the sandbox plan the
 * native helper reads at launch, and the agent's seccomp program. Everything that can be decided
 * before launch is decided here, so starting a sandboxed agent runs no Node.js of ours.
 */
import { accessSync, constants, lstatSync, mkdirSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { PolicyIR } from '@faramesh/fpl';
import {
  agentSocketMirror,
  proxyMirror,
  proxyPorts,
  resolveStackPath,
  type RuntimeSettings,
  type StackPaths,
} from '@faramesh/daemon/client';
import { LOCK_FILE } from '../../registry/lock-file.js';
import { separateAgentUser } from './agent-user.js';
import type { ArtifactFile } from './artifacts.js';
import { caEnv } from './ca-env.js';
import {
  agentFilter,
  BASE_ENV_ALLOW,
  buildPlan,
  DEFAULT_INNER_PORT,
  encode,
  HELPER_PATH,
  hostArch,
  type Layer,
  probeLayers,
  type Profile,
  type Relay,
  SANDBOX_AGENT_SOCKET,
  SANDBOX_HOME,
  type SandboxSpec,
  shownInSandbox,
  which,
} from '@faramesh/sandbox';

/** The repository (or node_modules) that holds Faramesh's packages: read-only inside the sandbox. */
const INSTALL_ROOT = realpathSync(join(dirname(HELPER_PATH), '..', '..', '..'));

export interface SandboxInputs {
  paths: StackPaths;
  settings: RuntimeSettings;
  ir: PolicyIR;
  profile: Profile;
  /** The policy file apply compiled (governance.fms). */
  source: string;
  /** The agent's environment from agent.env (FARAMESH_SOCKET is replaced by the sandbox's own). */
  agentEnv: Record<string, string>;
  /** Ambient credentials and `strip_env`. */
  strip: string[];
}

const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

/** Write the plan and the seccomp program; the one-line summary of what the sandbox confines. */
export function sandboxPlan(i: SandboxInputs): { files: ArtifactFile[]; summary: string } {
  const { paths, settings, ir } = i;
  const arch = hostArch();
  if (!arch) throw new Error(`runtime { os_tier = true }: no seccomp syscall table for ${process.arch}`);
  const seccomp: ArtifactFile = { path: paths.seccomp, bytes: encode(agentFilter(arch)), mode: 0o644 };

  const relays: Relay[] = [];
  const env: { agent: string; name: string; value: string }[] = Object.entries({
    ...i.agentEnv,
    FARAMESH_SOCKET: SANDBOX_AGENT_SOCKET,
    HOME: SANDBOX_HOME,
    TMPDIR: '/tmp',
    ...caEnv(paths, ir),
  }).map(([name, value]) => ({ agent: '*', name, value }));
  for (const kind of ['http', 'mcp'] as const) {
    const { shared, own } = proxyPorts(ir, kind === 'http' ? 'http_proxy_port' : 'mcp_proxy_port');
    const inner = (port: number) => port || DEFAULT_INNER_PORT[kind];
    if (shared !== undefined) relays.push({ kind, port: inner(shared), socket: proxyMirror(paths, kind) });
    for (const { agent, port } of own) relays.push({ kind, port: inner(port), socket: proxyMirror(paths, kind, agent), agent });
    if (kind === 'mcp') {
      // `faramesh mcp <server>` inside the sandbox finds the proxy here (.faramesh/ is hidden).
      const add = (agent: string, port: number) =>
        env.push({ agent, name: 'FARAMESH_MCP_PROXY', value: `http://127.0.0.1:${inner(port)}` });
      if (shared !== undefined) add('*', shared);
      for (const { agent, port } of own) add(agent, port);
      continue;
    }
    // Inside, HTTP_PROXY names the relay of the agent's own port, else the shared one.
    const proxyVars = (port: number) => {
      const url = `http://127.0.0.1:${inner(port)}`;
      return { HTTP_PROXY: url, HTTPS_PROXY: url, http_proxy: url, https_proxy: url, NO_PROXY: '', no_proxy: '' };
    };
    const add = (agent: string, port: number) =>
      Object.entries(proxyVars(port)).forEach(([name, value]) => env.push({ agent, name, value }));
    if (shared !== undefined) add('*', shared);
    for (const { agent, port } of own) add(agent, port);
  }

  // Policy sources stay read-only; the daemon's own files (keys, state, log, TLS key) are not there at all.
  const stackDir = paths.stackDir;
  const fms = readdirSync(stackDir)
    .filter((f) => f.endsWith('.fms'))
    .map((f) => join(stackDir, f));
  // Regular files only: a symlink planted as `x.fms` would become a bind of whatever it points at.
  // The policy itself must be a file: the read-only mount of a symlink lands on its target, and the
  // link could be replaced.
  if (!regularFile(i.source))
    throw new Error(
      `${i.source} is not a regular file: in the agents' workspace a symlink could be replaced; keep the policy itself there`,
    );
  const sources = [i.source, ...fms.filter(regularFile), ...protectedInputs(policyInputs(i.source, ir, settings), paths)];
  const hidden = [
    { path: paths.root, dir: true },
    { path: settings.walDir, dir: true },
    { path: settings.walArchiveDir, dir: true },
    ...(settings.http?.tls ? [{ path: settings.http.tls.key, dir: false }] : []),
  ];
  const user = separateAgentUser();
  const stackPathsOf = (v: unknown) => list(v).map((p) => resolveStackPath(p, stackDir));
  const extraWrite = stackPathsOf(ir.runtime.agent_write_paths);
  const spec: SandboxSpec = {
    profile: i.profile,
    stackDir,
    // With TLS inspection, the stack CA agents must trust (made by apply before this plan).
    readOnly: [
      ...new Set([...sources, ...hiddenHolders(hidden, [stackDir, ...extraWrite])]),
      ...Object.values(caEnv(paths, ir)).filter((f, n, all) => all.indexOf(f) === n),
    ],
    hidden,
    installRoot: INSTALL_ROOT,
    nodePath: process.execPath,
    helper: HELPER_PATH,
    bwrap: outsideWorkspace(resolve(bwrapPath()), [stackDir, ...extraWrite]),
    seccompFile: paths.seccomp,
    agentSockets: ir.agents.map((a) => ({ agent: a.id, socket: agentSocketMirror(paths, a.id) })),
    relays,
    env,
    allowEnv: [...BASE_ENV_ALLOW, ...list(ir.runtime.agent_env)],
    denyEnv: i.strip,
    ...(ir.agents.length === 1 ? { defaultAgent: ir.agents[0]!.id } : {}),
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
    extraRead: stackPathsOf(ir.runtime.agent_read_paths),
    extraWrite,
    home: homedir(),
    // FARAMESH_LANDLOCK_MIN_ABI: require a newer Landlock than the profile does.
    ...(/^\d+$/.test(process.env.FARAMESH_LANDLOCK_MIN_ABI ?? '') ? { minAbi: Number(process.env.FARAMESH_LANDLOCK_MIN_ABI) } : {}),
  };
  // The daemon's own socket answers for every agent: one the sandbox shows could be connected to
  // (or replaced, in the workspace), around the agent's mirror.
  if (shownInSandbox(spec, settings.agentSocket))
    throw new Error(
      `runtime.socket ${settings.agentSocket} would be visible to sandboxed agents, who could speak as any agent there: put it outside the workspace (the default, ~/.faramesh/runtime/faramesh.sock, or under .faramesh/)`,
    );
  refuseMcpServersInWorkspace(ir, [stackDir, ...extraWrite]);
  const plan = buildPlan(spec);
  return { files: [seccomp, { path: paths.sandboxPlan, bytes: plan.bytes, mode: 0o644 }], summary: plan.summary };
}

/**
 * A stdio `mcp_server` is started by the daemon, outside every sandbox, with the daemon's rights.
 * Run from a directory an agent can write (the workspace, by default), it would run what the agent
 * planted there: `npx` prefers a local `node_modules/.bin`, npm reads the project's `.npmrc`,
 * `python -m` imports from the working directory, a relative `command` names a file there. So under
 * the OS tier such a server must run from elsewhere, and its program must not lie in the workspace.
 */
function refuseMcpServersInWorkspace(ir: PolicyIR, writable: string[]): void {
  const within = (p: string) => agentsCanWrite(p, writable);
  for (const s of ir.mcp_servers) {
    if (s.command === undefined) continue;
    const cwd = resolve(writable[0]!, s.cwd ?? '.');
    if (within(cwd))
      throw new Error(
        `mcp_server "${s.name}" would run from ${cwd}, which sandboxed agents can write: the daemon starts it outside the sandbox, so what an agent plants there (node_modules, .npmrc, a Python module) would run with the daemon's rights. Set its cwd to a directory outside the workspace`,
      );
    if (s.command.includes('/') && within(resolve(cwd, s.command)))
      throw new Error(
        `mcp_server "${s.name}" runs ${s.command}, which sandboxed agents can write: the daemon starts it outside the sandbox. Install the server outside the workspace`,
      );
    // A bare command is looked up in PATH: an entry agents can write, searched before the program's
    // own, is where they would plant another of that name.
    if (!s.command.includes('/')) {
      // The server's own PATH (`env("X")` read where apply, which starts the daemon, runs), else the daemon's.
      const given = s.env.PATH;
      const named = typeof given === 'object' && given !== null && '$env' in given ? process.env[String(given.$env)] : undefined;
      const path = typeof given === 'string' ? given : (named ?? process.env.PATH ?? '');
      for (const entry of path.split(':').map((e) => resolve(cwd, e || '.'))) {
        if (within(entry))
          throw new Error(
            `mcp_server "${s.name}" runs ${s.command} looked up in PATH, whose entry ${entry} sandboxed agents can write: the daemon starts it outside the sandbox. Give the command's full path, or take that entry out of PATH`,
          );
        if (isExecutable(join(entry, s.command))) break;
      }
    }
  }
}

/**
 * Whether `p` lies in a directory sandboxed agents can write: as the path will be used, and where it
 * leads now (a link in the workspace that leads outside today is one an agent can point back at its
 * own directory tomorrow).
 */
function agentsCanWrite(p: string, writable: string[]): boolean {
  const real = (f: string) => {
    try {
      return realpathSync(f);
    } catch {
      return f;
    }
  };
  const inside = (dir: string, f: string) => {
    const r = relative(dir, f);
    return r === '' || (!r.startsWith('..') && !isAbsolute(r));
  };
  return writable.some((w) => [w, real(w)].some((d) => inside(d, p) || inside(d, real(p))));
}

/**
 * bubblewrap runs outside the sandbox, with the launcher's rights (it builds the sandbox). Found
 * through a PATH entry agents can write (an activated venv's bin/, the node_modules/.bin that npx and
 * npm scripts put first, `.`), it would be a program an agent planted: every launch would run it
 * unconfined.
 */
function outsideWorkspace(bwrap: string, writable: string[]): string {
  if (agentsCanWrite(bwrap, writable))
    throw new Error(
      `bubblewrap was found at ${bwrap}, which sandboxed agents can write: it runs outside the sandbox, so what an agent planted there would run unconfined. Take that directory out of PATH, or set FARAMESH_BWRAP to the system's bubblewrap`,
    );
  return bwrap;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * What apply and the daemon read besides the policy: the import lock, the identities' key sets, the
 * OpenAPI document, the TLS certificate. In the workspace, an agent could rewrite them for the next
 * apply (a key set of its own makes its principal tokens verify): they are shown read-only.
 */
function policyInputs(source: string, ir: PolicyIR, settings: RuntimeSettings): string[] {
  const stackDir = dirname(source);
  const files = [join(stackDir, LOCK_FILE), ...(settings.http?.tls ? [settings.http.tls.cert] : [])];
  // Named as written, through env() (read here, as the daemon will), or as a file:// key set URL.
  const text = (v: unknown): string | undefined => {
    const s = v && typeof v === 'object' && '$env' in v ? process.env[String((v as { $env: unknown }).$env)] : v;
    return typeof s === 'string' && s !== '' ? s : undefined;
  };
  const url = (v: unknown) => {
    const u = text(v);
    return u?.startsWith('file://') ? new URL(u).pathname : undefined;
  };
  const named = [text(ir.runtime.http_openapi), ...ir.identities.flatMap((d) => [text(d.fields.jwks_file), url(d.fields.jwks_url)])];
  for (const f of named) if (f) files.push(resolveStackPath(f, stackDir));
  // Outside the workspace they are not the agent's to write (and showing them would reveal them).
  return files.filter((f) => f.startsWith(`${stackDir}/`));
}

/**
 * The workspace entries that hold the policy inputs, shown read-only whole: a file bound alone in a
 * subdirectory moves with it when the agent renames the subdirectory, and a symlink the agent could
 * replace (so apply refuses one). An input not there yet is the agent's to create, and apply then
 * refuses what it planted, or ignores it (a lock without imports).
 */
function protectedInputs(files: string[], paths: StackPaths): string[] {
  const tops = new Set<string>();
  for (const f of files) {
    const top = join(paths.stackDir, relative(paths.stackDir, f).split(sep)[0]!);
    if (top === paths.root) continue; // .faramesh/ is hidden
    let entry;
    try {
      entry = lstatSync(top);
    } catch {
      continue;
    }
    if (entry.isSymbolicLink())
      throw new Error(
        `${relative(paths.stackDir, top)} is a symlink in the agents' workspace, and the daemon reads ${f} through it: an agent could replace it; use the file itself`,
      );
    tops.add(top);
  }
  return [...tops];
}

/**
 * The daemon's own paths hidden below a writable entry (`wal_dir = "./data/wal"`): that entry, the one
 * right under the writable tree, is shown read-only whole. Otherwise the agent renames it (a directory
 * holding a mount point moves freely) and plants its own in its place: the daemon would then write its
 * log and snapshots where the agent chose (through a symlink, any file the daemon can write), and the
 * next sandbox would show the real log under the new name. A symlink there is refused.
 */
function hiddenHolders(hidden: { path: string; dir: boolean }[], writable: string[]): string[] {
  const holders = new Set<string>();
  for (const h of hidden) {
    // Made now, as the plan would make it: its holder must exist to be bound.
    if (h.dir) mkdirSync(h.path, { recursive: true, mode: 0o700 });
    for (const root of writable) {
      if (!h.path.startsWith(`${root}/`)) continue;
      const entry = join(root, relative(root, h.path).split(sep)[0]!);
      if (entry === h.path) continue; // itself a mount point: it cannot be renamed
      let st;
      try {
        st = lstatSync(entry);
      } catch {
        continue;
      }
      if (st.isSymbolicLink())
        throw new Error(
          `${entry} is a symlink the agents can write, and the daemon keeps ${h.path} through it: an agent could replace it; use the directory itself`,
        );
      holders.add(entry);
    }
  }
  return [...holders];
}

const regularFile = (f: string): boolean => {
  try {
    return lstatSync(f).isFile();
  } catch {
    return false;
  }
};

/** FARAMESH_BWRAP: another bubblewrap than the one on PATH. */
const bwrapPath = () => process.env.FARAMESH_BWRAP ?? which('bwrap') ?? '/usr/bin/bwrap';

/** What this machine can enforce, layer by layer (for apply and status). */
export const sandboxLayers = (): Layer[] => probeLayers(HELPER_PATH, bwrapPath());

/** The layers a sandboxed launch needs that this machine lacks (the eBPF LSM is never required). */
export function missingLayers(): Layer[] {
  return sandboxLayers().filter((l) => !l.available && l.layer !== 'ebpf-lsm');
}
