/** Finding and starting a stack's daemon from the CLI. */
import type { ChildInfo } from '@faramesh/daemon';
import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { DaemonUnreachableError, operatorCall, type StackPaths } from '@faramesh/daemon/client';
import type { BudgetUsage } from '@faramesh/engine';
import { CLI_PATH } from '../../cli-path.js';
import type { PhaseInfo } from './phases.js';

export interface DaemonStatus {
  state: string;
  pid: number;
  uptime_seconds: number;
  /** How far the daemon's own clock is ahead of a system clock that stepped back (absent from older daemons). */
  clock_ahead_ms?: number;
  socket: string | null;
  operator_socket: string;
  /** The HTTP channel's URL, when http_listen is set. */
  http: string | null;
  policy_version: string | null;
  policy_source: string | null;
  applied_at: string | null;
  runtime_mode: string | null;
  /** A `faramesh dev` daemon. */
  dev?: boolean;
  degraded: string | null;
  /** `archived`: the first records, compacted into archive files; `retention_s`: `runtime { wal_retention }`. */
  wal: { path: string | null; records: number; archived?: number; retention_s?: number };
  signing?: { via: string; type: string; key_id: string; provider?: string; last_error?: string } | null;
  decisions: { permit: number; deny: number; defer: number };
  /** Of `decisions`, the denials and deferrals audit mode let through (older daemons: absent). */
  decisions_not_enforced?: { deny: number; defer: number };
  budgets: BudgetUsage[];
  /** Each agent's phases on the daemon's clock (older daemons: absent). */
  phases?: PhaseInfo[];
  /**
   * Audit sinks (delivering, degraded while retrying) and, with `kind: "credentials"`, the
   * credential providers (HEALTHY, DEGRADED, DOWN, or UNKNOWN until first tried).
   */
  providers: {
    name: string;
    type: string;
    status: string;
    kind?: 'credentials';
    shipped?: number;
    last_error?: string;
    last_delivery?: string;
    last_probe_seconds_ago?: number;
  }[];
  alerts: { sent: number; failed: number; dropped: number; undeliverable?: string[] };
  credentials?: { provider: string; issued: number; failed: number; last_error?: string; last_error_at?: string }[];
  /** The SPIFFE identity provider (older daemons: absent). */
  identity?: { provider: string; trust_domain: string; svids: string[]; last_error?: string } | null;
  proxies?: {
    mcp?: { shared?: number; agents: Record<string, number>; relayed_calls?: number };
    http?: { shared?: number; agents: Record<string, number>; https: string };
    /** The reverse proxy on the HTTP channel. */
    reverse?: { url: string; upstream: string; routes: number; agent: string | null };
  };
  approvals: { pending: number; oldest_age_seconds: number | null };
  /** The OS tier the applied policy asks for (older daemons: absent). */
  os_tier?: { profile: 'full' | 'minimal' | 'off' };
  supervisor?: ChildInfo[];
}

/** The stack's runtime files are there but this user may not look at them (the daemon runs as another user). */
export class StackAccessError extends Error {
  override name = 'StackAccessError';
}

/** The daemon's status, or undefined when none answers for this stack. */
export async function daemonStatus(paths: StackPaths): Promise<DaemonStatus | undefined> {
  if (!existsSync(paths.operatorSocket)) {
    // existsSync is false for a socket this user may not look at, too: that is no proof that no daemon runs.
    try {
      statSync(paths.operatorSocket);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM')
        throw new StackAccessError(
          `${paths.operatorSocket} cannot be reached by this user (${code}): whether a daemon runs is unknown; run this as the user that applied the stack`,
        );
    }
    return undefined;
  }
  try {
    return await operatorCall<DaemonStatus>(paths.operatorSocket, 'status', undefined, 5000);
  } catch (e) {
    if (e instanceof DaemonUnreachableError) return undefined;
    throw e;
  }
}

/**
 * Node flags of the daemon apply starts. Its live heap is small (about 17 MB after 300,000
 * decisions), but under load V8 grows the young generation to its 16 MB semi-space default and
 * resident memory reached 214 MB; with 8 MB it stayed at 107–142 MB at the same throughput.
 */
const DAEMON_NODE_FLAGS = ['--max-semi-space-size=8'];

/** Start `faramesh serve` in the background and wait until it is READY (or has failed). */
export async function startDaemon(paths: StackPaths, timeoutMs: number): Promise<DaemonStatus> {
  const log = openSync(paths.log, 'a', 0o600);
  const child = spawn(process.execPath, [...DAEMON_NODE_FLAGS, CLI_PATH, 'serve', '--dir', paths.stackDir], {
    detached: true,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? 1));
  child.unref();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited !== null) throw new Error(`the daemon exited (code ${exited}) before it was ready:\n${logTail(paths.log)}`);
    const status = await daemonStatus(paths).catch(() => undefined);
    if (status?.state === 'READY') return status;
    if (status?.state === 'HALT') throw new Error(`the daemon halted during initialization:\n${logTail(paths.log)}`);
    if (Date.now() > deadline) throw new Error(`the daemon was not ready within ${timeoutMs} ms:\n${logTail(paths.log)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function logTail(file: string, lines = 12): string {
  if (!existsSync(file)) return '(no daemon log)';
  return readFileSync(file, 'utf8')
    .trimEnd()
    .split('\n')
    .slice(-lines)
    .map((l) => `  ${l}`)
    .join('\n');
}

export { processAlive as alive } from '@faramesh/audit';

/** The pid file's process, if it is this stack's daemon (a stale file may name anything by now). */
export function stalePid(paths: StackPaths): number | undefined {
  if (!existsSync(paths.pid)) return undefined;
  const pid = Number(readFileSync(paths.pid, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmdline.includes('serve') && cmdline.includes(paths.stackDir) ? pid : undefined;
  } catch {
    return undefined;
  }
}
