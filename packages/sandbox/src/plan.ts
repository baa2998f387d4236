/**
 * The sandbox plan: what `faramesh apply` writes for the native helper (`faramesh-sandbox exec`),
 * so that launching an agent costs no Node start-up. It names the bubblewrap arguments (namespaces,
 * mounts), the Landlock rules the helper applies inside, the relays to the daemon's proxies, and the
 * environment allowlist. Directives are NUL-separated tokens, each followed by its operands:
 *   bwrap P · seccomp P · workdir P · profile NAME · agent ID (the default) · uid N · gid N
 *   for ID|*   (the directives after it apply only when launching agent ID; `*`: every agent)
 *   allow PATTERN · deny PATTERN (environment names, or prefixes ending in *)
 *   env NAME VALUE · arg TOKEN (to bubblewrap) · inner TOKEN (to the helper inside)
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative } from 'node:path';

export type Profile = 'full' | 'minimal';

/** Where the daemon's sockets appear inside the sandbox. */
export const SANDBOX_RUN = '/run/faramesh';
export const SANDBOX_AGENT_SOCKET = `${SANDBOX_RUN}/faramesh.sock`;
/** The agent's home inside the sandbox (a private tmpfs in the full profile). */
export const SANDBOX_HOME = '/tmp/home';

/** Inside the sandbox, a proxy configured on port 0 (any free port) is reached on these. */
export const DEFAULT_INNER_PORT = { http: 3128, mcp: 8081 } as const;

/** Environment the agent may inherit from whoever launches it (besides FARAMESH_*). */
export const BASE_ENV_ALLOW = [
  'PATH',
  'LANG',
  'LANGUAGE',
  'LC_*',
  'TERM',
  'COLORTERM',
  'NO_COLOR',
  'FORCE_COLOR',
  'TZ',
  'USER',
  'LOGNAME',
  'NODE_OPTIONS',
  'NODE_ENV',
  'NODE_PATH',
  'PYTHONPATH',
  'PYTHONUNBUFFERED',
  'PYTHONDONTWRITEBYTECODE',
  'VIRTUAL_ENV',
];

/** The daemon's own secrets and settings: never an agent's, even under the FARAMESH_ prefix. */
export const DAEMON_ENV = ['FARAMESH_SMTP_*', 'FARAMESH_SLACK_*', 'FARAMESH_PAGERDUTY_*', 'FARAMESH_REGISTRY_*', 'FARAMESH_TOKEN'];

/** Private to each sandbox (a tmpfs of its own): nothing of the host's is there. */
const PRIVATE = ['/tmp', '/run'];
/** System paths shown read-only (those a machine lacks are skipped; merged-/usr symlinks stay symlinks). */
const SYSTEM_DIRS = ['/usr', '/etc', '/opt'];
const SYSTEM_LINKS = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
/** Readable only by root on the host; an agent running as root in its namespace must not see them. */
const MASKED_FILES = ['/etc/shadow', '/etc/gshadow', '/etc/shadow-', '/etc/gshadow-', '/etc/sudoers'];
/** Where the system keeps its secrets among the paths shown (host keys, TLS keys, VPN and Wi-Fi configurations). */
const SECRETS_DIR = '/etc';

/**
 * What under `root` other users cannot read: files without the read bit for others, directories
 * they cannot enter (not descended). An agent launched by root keeps uid 0 in its namespace, and
 * the owner's rights with it, so a list of names would miss `/etc/ssh/ssh_host_*_key`,
 * `/etc/ssl/private/`, `/etc/wireguard/`, … A directory this process cannot list is skipped: the
 * agent, as the same user, cannot list it either.
 */
export function unreadableByOthers(root: string): { path: string; dir: boolean }[] {
  const out: { path: string; dir: boolean }[] = [];
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names.sort()) {
      const p = join(dir, name);
      let st;
      try {
        st = lstatSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) {
        if (!(st.mode & 0o001)) out.push({ path: p, dir: true });
        else walk(p);
      } else if (st.isFile() && !(st.mode & 0o004)) out.push({ path: p, dir: false });
    }
  };
  walk(root);
  return out;
}

export interface Relay {
  kind: 'http' | 'mcp';
  /** The loopback port the agent connects to inside the sandbox. */
  port: number;
  /** The daemon's Unix socket it is relayed to. */
  socket: string;
  /** Only for this agent (its own port); unset: every agent. */
  agent?: string;
}

export interface SandboxSpec {
  profile: Profile;
  stackDir: string;
  /** Inside the stack dir, shown read-only: the policy sources. */
  readOnly: string[];
  /**
   * Hidden entirely: `.faramesh/` (keys, state, runtime), the log directory, the daemon's key files.
   * A directory that does not exist yet is created (the daemon would create it later, visible).
   */
  hidden: { path: string; dir: boolean }[];
  /** Faramesh's own code (the helper, the SDK's autoload): read-only, even inside the workspace. */
  installRoot: string;
  /** The Node.js the agent may run (its prefix is shown read-only when it is not a system path). */
  nodePath?: string;
  helper: string;
  bwrap: string;
  seccompFile: string;
  /**
   * Each agent's own mirror of the daemon's agent socket: a sandbox binds only its agent's, where
   * every call is that agent's. The agents listed are the only ones the launcher starts.
   */
  agentSockets: { agent: string; socket: string }[];
  relays: Relay[];
  /** Fixed environment, by agent (`*`: every agent). */
  env: { agent: string; name: string; value: string }[];
  allowEnv: string[];
  denyEnv: string[];
  defaultAgent?: string;
  /** UID separation: the agent's user (when the launcher runs as root). */
  uid?: number;
  gid?: number;
  extraRead?: string[];
  extraWrite?: string[];
  /** The oldest Landlock ABI the launch accepts (the full profile needs 6: TCP rules and scopes). */
  minAbi?: number;
  /** The operator's home directory, hidden from the agent (only the minimal profile shows the host at all). */
  home?: string;
}

export interface Plan {
  bytes: Buffer;
  /** What the plan confines, in a line (the launcher prints it with the Landlock ABI it found). */
  summary: string;
}

const under = (dir: string, p: string) => {
  const r = relative(dir, p);
  return r === '' || (!r.startsWith('..') && !isAbsolute(r));
};

/** The real path of `p`, or of its deepest existing ancestor with the rest appended. */
function realPath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    const parent = dirname(p);
    return parent === p ? p : join(realPath(parent), basename(p));
  }
}

/** The directory tree a Node binary lives in (`…/bin/node` → `…`). */
function nodePrefix(node: string): string {
  return dirname(dirname(realpathSync(node)));
}

/**
 * Whether the agent would see `p` in its sandbox: the view the mounts of buildPlan make. A Unix
 * socket it sees, it can connect to (Landlock does not govern connecting to one), read-only or not.
 */
export function shownInSandbox(s: SandboxSpec, path: string): boolean {
  // Judged where the path really leads (`/var/run` is `/run`, private in the sandbox).
  const p = realPath(path);
  if (s.hidden.some((h) => (h.dir ? under(realPath(h.path), p) : realPath(h.path) === p))) return false;
  const node = s.nodePath ? nodePrefix(s.nodePath) : undefined;
  const bound = [s.stackDir, s.installRoot, ...(node ? [node] : []), ...(s.extraRead ?? []), ...(s.extraWrite ?? [])];
  if (bound.some((d) => under(realPath(d), p))) return true;
  if ([...PRIVATE, '/proc', '/dev'].some((d) => under(d, p))) return false;
  if (s.profile === 'minimal') return !(s.home && s.home !== '/' && under(realPath(s.home), p));
  return [...SYSTEM_DIRS, ...SYSTEM_LINKS].some((d) => under(d, p));
}

export function buildPlan(s: SandboxSpec): Plan {
  const d: string[] = [];
  const put = (...t: string[]) => d.push(...t);
  const arg = (...t: string[]) => t.forEach((x) => put('arg', x));
  const inner = (...t: string[]) => t.forEach((x) => put('inner', x));
  const full = s.profile === 'full';

  put('profile', s.profile, 'bwrap', s.bwrap, 'seccomp', s.seccompFile, 'workdir', s.stackDir);
  if (s.defaultAgent) put('agent', s.defaultAgent);
  for (const { agent } of s.agentSockets) put('known', agent);
  if (s.uid !== undefined) put('uid', String(s.uid), 'gid', String(s.gid ?? s.uid));
  for (const p of s.allowEnv) put('allow', p);
  for (const p of [...DAEMON_ENV, ...s.denyEnv]) put('deny', p);

  // Process isolation: every namespace, no capabilities, no way to make more namespaces inside.
  arg('--die-with-parent', '--new-session', '--unshare-user', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-net');
  arg('--unshare-cgroup-try', '--disable-userns', '--assert-userns-disabled', '--cap-drop', 'ALL', '--hostname', 'faramesh-agent');

  // The filesystem, in mount order: later mounts cover earlier ones.
  const readable: string[] = [];
  const showReadOnly = (p: string, bind = '--ro-bind') => {
    arg(bind, p, p);
    readable.push(p);
  };
  if (full) {
    for (const p of SYSTEM_DIRS) if (existsSync(p)) showReadOnly(p);
    for (const p of SYSTEM_LINKS) {
      if (!existsSync(p)) continue;
      if (lstatSync(p).isSymbolicLink()) arg('--symlink', readlinkSync(p), p);
      else showReadOnly(p);
    }
    const masked = unreadableByOthers(SECRETS_DIR);
    for (const f of MASKED_FILES) if (existsSync(f) && !masked.some((m) => m.path === f)) arg('--ro-bind', '/dev/null', f);
    for (const m of masked) arg(...(m.dir ? ['--tmpfs', m.path, '--remount-ro', m.path] : ['--ro-bind', '/dev/null', m.path]));
  } else {
    arg('--ro-bind', '/', '/');
    readable.push('/');
  }
  // The launching user's home holds their own credentials (~/.aws, ~/.ssh) and the default agent
  // socket: never shown, in any profile. A workspace inside it is bound again below, on the tmpfs
  // (made read-only only after that bind has made its mount point).
  // bubblewrap mounts on the real path: a home reached through a symlink is mounted where it leads.
  const realHome = s.home && existsSync(s.home) ? realpathSync(s.home) : undefined;
  const home = realHome && realHome !== '/' && realHome !== s.stackDir && !under(s.stackDir, realHome) ? realHome : undefined;
  // (Under /tmp or /run it is gone anyway: those are private tmpfs below.)
  const hideHome = !full && home !== undefined && !PRIVATE.some((d) => under(d, home));
  if (hideHome) arg('--tmpfs', home);
  arg('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--dir', SANDBOX_HOME, '--tmpfs', '/run', '--dir', SANDBOX_RUN);
  for (const { agent, socket } of s.agentSockets) {
    put('for', agent);
    arg('--bind', socket, SANDBOX_AGENT_SOCKET);
    put('for', '*');
  }
  const inside = (r: Relay) => `${SANDBOX_RUN}/${r.kind}-${r.port}.sock`;
  for (const r of s.relays) {
    if (r.agent) put('for', r.agent);
    arg('--bind', r.socket, inside(r));
    inner('--relay', String(r.port), inside(r), '--connect', String(r.port));
    if (r.agent) put('for', '*');
  }
  // Shown by its own bind when no read-only view covers it, or a private tmpfs hides it (/tmp, /run, the home).
  const hiddenBy = [...PRIVATE, ...(home && !full ? [home] : [])];
  const outsideSystem = (p: string) => !readable.some((r) => under(r, p)) || hiddenBy.some((h) => under(h, p));
  const node = s.nodePath ? nodePrefix(s.nodePath) : undefined;
  for (const p of [s.installRoot, ...(node ? [node] : []), ...(s.extraRead ?? [])])
    if (outsideSystem(p) && !under(s.stackDir, p)) showReadOnly(p, '--ro-bind-try');
  const writable = [s.stackDir, ...(s.extraWrite ?? [])];
  arg('--bind', s.stackDir, s.stackDir);
  for (const p of s.extraWrite ?? []) arg('--bind-try', p, p);
  // Inside the workspace, Faramesh's code and the policy stay read-only, and the daemon's files unseen.
  for (const p of [s.installRoot, ...(node ? [node] : [])]) if (under(s.stackDir, p)) arg('--ro-bind', p, p);
  for (const p of s.readOnly) if (existsSync(p)) arg('--ro-bind', p, p);
  // An agent_write_paths entry below a read-only one (`./data/out` when `./data` is shown read-only
  // because it holds the wal_dir) stays writable: bound again, then what must stay read-only inside it.
  const rebound = (s.extraWrite ?? []).filter((p) => s.readOnly.some((r) => r !== p && under(r, p)));
  for (const p of rebound) arg('--bind-try', p, p);
  for (const p of s.readOnly) if (existsSync(p) && rebound.some((w) => under(w, p))) arg('--ro-bind', p, p);
  for (const { path, dir } of s.hidden) {
    if (dir) {
      mkdirSync(path, { recursive: true, mode: 0o700 });
      arg('--tmpfs', path, '--remount-ro', path);
    } else if (existsSync(path)) arg('--ro-bind', '/dev/null', path);
  }
  // Last: every mount point under the home has been made while it was writable.
  if (hideHome) arg('--remount-ro', home);

  // The environment the helper adds to the allowlisted one.
  for (const e of s.env) {
    if (e.agent === '*') put('env', e.name, e.value);
    else put('for', e.agent, 'env', e.name, e.value, 'for', '*');
  }

  // Landlock inside, a second layer over the same view.
  inner('--min-abi', String(Math.max(s.minAbi ?? 1, full ? 6 : 1)));
  if (full) inner('--net', '--scope');
  for (const p of readable) inner('--ro', p);
  // Read-only binds outside every readable tree (the stack CA under /run) must be readable to Landlock too.
  for (const p of s.readOnly) if (existsSync(p)) inner('--ro', p);
  inner('--ro', '/proc', '--dev', '/dev', '--rw', '/dev/shm', '--rw', '/tmp');
  for (const p of writable) inner('--rw', p);

  const layers = [
    'namespaces (user, pid, mount, ipc, uts, net)',
    'seccomp',
    full ? 'filesystem: system read-only, workspace writable' : 'filesystem: host read-only, workspace writable',
    `network: none${s.relays.length ? `, proxies on ${[...new Set(s.relays.map((r) => `127.0.0.1:${r.port}`))].join(', ')}` : ''}`,
    s.uid !== undefined ? `uid ${s.uid}` : 'same uid, no capabilities',
  ];
  const summary = `${s.profile}: ${layers.join('; ')}`;
  inner('--report', summary);
  return { bytes: Buffer.from(d.map((t) => `${t}\0`).join(''), 'utf8'), summary };
}
