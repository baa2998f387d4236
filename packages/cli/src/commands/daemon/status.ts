/**
 * `faramesh status`: the daemon's lifecycle state, policy, log, providers, budgets and approvals.
 * Exit codes: 0 READY, 1 not running, 2 running but not READY (starting, initializing, draining, not answering),
 * 3 READY with a provider (an audit sink, a credential provider) DEGRADED or DOWN. `--watch` reports again every two seconds.
 */
import { stackPaths } from '@faramesh/daemon/client';
import { inline, makeOut, type Out } from '../../output.js';
import type { BudgetUsage } from '@faramesh/engine';
import type { Layer } from '@faramesh/sandbox';
import { phaseLine } from './phases.js';
import { daemonStatus, type DaemonStatus } from './running.js';
import { sandboxLayers } from './sandbox-plan.js';

export interface StatusOptions {
  dir: string;
  format?: 'text' | 'json';
  quiet?: boolean;
  /** Print again every `interval` ms (default 2 s) until SIGINT or SIGTERM. */
  watch?: boolean;
  interval?: number;
  noColor?: boolean;
}

export async function status(o: StatusOptions): Promise<number> {
  const out = makeOut(o.noColor);
  if (!o.watch) return report(o, out, 2);
  return watch(o, out);
}

/**
 * `--watch`: on a terminal each report replaces the last; piped, each follows the last under a
 * time line, and `--format json` prints one compact object per line. Exits with the last code.
 */
async function watch(o: StatusOptions, out: Out): Promise<number> {
  const tty = !!process.stdout.isTTY;
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  let code = 1;
  try {
    while (!stop.signal.aborted) {
      const lines: string[] = [];
      try {
        code = await report(o, { ...out, print: (t) => lines.push(t) }, o.format === 'json' && !tty ? 0 : 2);
      } catch (e) {
        // One report that could not be had (a daemon too busy to answer in time) does not end the watch.
        out.error(out.fail(`no status: ${(e as Error).message}`));
        code = 2;
      }
      const text = lines.join('\n');
      if (tty) process.stdout.write(`\x1b[H\x1b[2J${text}\n\n(every ${(o.interval ?? 2000) / 1000}s; Ctrl-C stops)\n`);
      else out.print(o.format === 'json' || o.quiet ? text : `— ${new Date().toISOString()}\n${text}\n`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, o.interval ?? 2000);
        const early = () => {
          clearTimeout(timer);
          resolve();
        };
        stop.signal.addEventListener('abort', early, { once: true });
      });
    }
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
  return code;
}

/** One report; `indent`: the JSON's indentation (0 for one line). */
async function report(o: StatusOptions, out: Out, indent: number): Promise<number> {
  let s: DaemonStatus | undefined;
  try {
    s = await daemonStatus(stackPaths(o.dir));
  } catch (e) {
    // A daemon that holds its socket but does not answer (hung, stopped, overloaded) is running, not READY.
    const why = (e as Error).message;
    if (o.quiet) out.print('2');
    else if (o.format === 'json') out.print(JSON.stringify({ daemon: { state: 'UNRESPONSIVE', error: why } }, null, indent));
    else out.print(`Daemon\n  state:          UNRESPONSIVE (${why})`);
    return 2;
  }
  const degraded = (s?.providers.some((p) => p.status === 'DEGRADED' || p.status === 'DOWN') ?? false) || !!s?.degraded;
  const code = !s ? 1 : s.state !== 'READY' ? 2 : degraded ? 3 : 0;
  if (o.quiet) {
    out.print(String(code));
    return code;
  }
  if (o.format === 'json') {
    out.print(JSON.stringify(s ? toJson(s) : { daemon: { state: 'STOPPED' } }, null, indent));
    return code;
  }
  if (!s) {
    out.print('Daemon\n  state:          STOPPED (no daemon answers for this stack; start it with faramesh apply)');
    return code;
  }
  const rows: [string, string][] = [
    ['state', s.state + (s.degraded ? ` (DEGRADED: ${s.degraded})` : '')],
    ['pid', String(s.pid)],
    ['uptime', duration(s.uptime_seconds)],
    ...(s.clock_ahead_ms
      ? [
          [
            'clock',
            `${duration(Math.ceil(s.clock_ahead_ms / 1000))} ahead of the system clock, which stepped back: the daemon counts on from its own time`,
          ] as [string, string],
        ]
      : []),
    ['socket', s.socket ?? '—'],
    ...(s.http ? [['http', s.http] as [string, string]] : []),
    ['policy hash', s.policy_version?.slice(0, 16) ?? '—'],
    ['policy source', s.policy_source ? `${s.policy_source} (applied ${s.applied_at})` : '—'],
    ['runtime mode', (s.runtime_mode ?? '—') + (s.dev ? ' (faramesh dev: in-memory log, dev-tagged records)' : '')],
    [
      'WAL',
      `${s.wal.path ?? '—'} (${s.wal.records.toLocaleString('en-US')} records` +
        (s.wal.archived ? `, the first ${s.wal.archived.toLocaleString('en-US')} archived` : '') +
        (s.wal.retention_s !== undefined ? `; wal_retention ${duration(s.wal.retention_s)}` : '') +
        ')',
    ],
    ...(s.signing
      ? [
          [
            'checkpoints',
            `signed by ${s.signing.via} (${s.signing.type}, key id ${s.signing.key_id})${s.signing.last_error ? ` · last error: ${s.signing.last_error}` : ''}`,
          ] as [string, string],
        ]
      : []),
  ];
  out.print(['Daemon', ...rows.map(([k, v]) => `  ${`${k}:`.padEnd(16)}${v}`)].join('\n'));
  if (s.providers.length > 0)
    section(
      out,
      'Providers',
      s.providers.map(
        (p) =>
          `  ${p.name.padEnd(16)}${p.status.padEnd(12)}${p.type.padEnd(14)}${
            p.kind === 'credentials'
              ? p.last_probe_seconds_ago === undefined
                ? 'not tried yet'
                : `last probe: ${duration(p.last_probe_seconds_ago)} ago`
              : `${p.shipped ?? 0} shipped`
          }${p.last_error ? ` · last error: ${p.last_error}` : ''}`,
      ),
    );
  section(
    out,
    'Credentials',
    (s.credentials ?? []).map(
      (c) =>
        `  ${c.provider.padEnd(16)}${c.issued} issued · ${c.failed} failed${c.last_error ? ` · last error (${c.last_error_at}): ${c.last_error}` : ''}`,
    ),
  );
  const id = s.identity;
  if (id)
    section(out, 'Identity', [
      `  ${id.provider.padEnd(16)}spiffe://${id.trust_domain} · ${id.svids.length} SVIDs${id.last_error ? ` · last error: ${id.last_error}` : ''}`,
    ]);
  const ports = (p: { shared?: number; agents: Record<string, number> }) =>
    [...(p.shared !== undefined ? [`shared :${p.shared}`] : []), ...Object.entries(p.agents).map(([a, n]) => `${a} :${n}`)].join(', ');
  const proxies = [
    ...(s.proxies?.mcp ? [`  ${'mcp'.padEnd(16)}${ports(s.proxies.mcp)}`] : []),
    ...(s.proxies?.http ? [`  ${'http'.padEnd(16)}${ports(s.proxies.http)} (https: ${s.proxies.http.https})`] : []),
    ...(s.proxies?.reverse
      ? [
          `  ${'reverse'.padEnd(16)}${s.proxies.reverse.url} → ${s.proxies.reverse.upstream} (${s.proxies.reverse.routes} routes${s.proxies.reverse.agent ? `; no token: agent ${s.proxies.reverse.agent}` : '; agent token required'})`,
        ]
      : []),
  ];
  section(out, 'Proxies', proxies);
  const tier = osTier(s);
  if (tier.profile !== 'off')
    section(
      out,
      `OS tier (profile ${tier.profile})`,
      tier.layers.map((l) => `  ${l.layer.padEnd(16)}${(l.available ? 'active' : 'unavailable').padEnd(12)}${l.detail}`),
    );
  else out.print('OS tier\n  off: application tier only (runtime { os_tier = true } sandboxes agents)');
  section(
    out,
    'Supervisor',
    (s.supervisor ?? []).map(
      (c) =>
        `  ${c.id.padEnd(16)}${c.state.padEnd(12)}${c.pid !== undefined ? `pid ${c.pid} · ` : ''}${c.restarts} restarts · ${c.argv.join(' ')}`,
    ),
  );
  const loose = s.decisions_not_enforced;
  const unenforced = loose && loose.deny + loose.defer > 0 ? loose : undefined;
  out.print(
    `Decisions\n  permit ${s.decisions.permit} · defer ${s.decisions.defer} · deny ${s.decisions.deny}` +
      // Under audit mode these ran: a deny count read as blocks would overstate what was stopped.
      (unenforced ? `\n  not enforced (runtime mode audit, the calls ran): defer ${unenforced.defer} · deny ${unenforced.deny}` : ''),
  );
  section(out, 'Budgets', s.budgets.map(budgetRow));
  section(
    out,
    'Phases',
    (s.phases ?? []).map((p) => `  ${`${p.name} (${p.agent})`.padEnd(22)}${phaseLine(p)}`),
  );
  out.print(
    `Approvals\n  ${'pending:'.padEnd(16)}${s.approvals.pending}` +
      (s.approvals.oldest_age_seconds === null ? '' : `\n  ${'oldest age:'.padEnd(16)}${duration(s.approvals.oldest_age_seconds)}`),
  );
  return code;
}

function toJson(s: DaemonStatus): object {
  const tier = osTier(s);
  return {
    daemon: {
      state: s.state,
      pid: s.pid,
      uptime_seconds: s.uptime_seconds,
      clock_ahead_ms: s.clock_ahead_ms ?? 0,
      socket: s.socket,
      http: s.http,
      policy_hash: s.policy_version?.slice(0, 16) ?? null,
      policy_version: s.policy_version,
      policy_source: s.policy_source,
      applied_at: s.applied_at,
      runtime_mode: s.runtime_mode,
      dev: s.dev === true,
      degraded: s.degraded,
      wal: {
        backend: 'segments',
        path: s.wal.path,
        records: s.wal.records,
        archived: s.wal.archived ?? 0,
        retention_s: s.wal.retention_s ?? null,
      },
      signing: s.signing ?? null,
      // The summary status.md shows; the layers, each with whether this machine can apply it, are below.
      os_tier: {
        enabled: tier.profile !== 'off',
        mechanism: tier.layers
          .filter((l) => l.available && l.layer !== 'helper')
          .map((l) => l.layer)
          .join('+'),
      },
    },
    decisions: s.decisions,
    decisions_not_enforced: s.decisions_not_enforced ?? { deny: 0, defer: 0 },
    providers: s.providers,
    alerts: s.alerts,
    credentials: s.credentials ?? [],
    identity: s.identity ?? null,
    proxies: s.proxies ?? {},
    os_tier: tier,
    supervisor: s.supervisor ?? [],
    budgets: s.budgets,
    phases: s.phases ?? [],
    approvals: s.approvals,
  };
}

/** A titled block of rows; nothing when there are no rows. */
function section(out: Out, title: string, rows: string[]): void {
  if (rows.length > 0) out.print([title, ...rows].join('\n'));
}

/** The profile the daemon enforces and, when it sandboxes, what this machine can apply, layer by layer. */
function osTier(s: DaemonStatus): { profile: string; layers: Layer[] } {
  const profile = s.os_tier?.profile ?? 'off';
  return { profile, layers: profile === 'off' ? [] : sandboxLayers() };
}

/** `  daily (bot)   $84.50 / $500.00  (16.9%)   12 calls`. */
function budgetRow(b: BudgetUsage): string {
  const meter = (spent: number, cap: number | undefined) =>
    `$${spent.toFixed(2)}${cap !== undefined ? ` / $${cap.toFixed(2)}` : ''}${cap ? `  (${((100 * spent) / cap).toFixed(1)}%)` : ''}`;
  const calls = `${b.calls}${b.max_calls !== undefined ? ` / ${b.max_calls}` : ''} calls`;
  const name = `${b.id} (${b.agent})`.padEnd(20);
  if (b.window === 'day') return `  ${name}  ${meter(b.spent_usd, b.max_usd ?? b.daily_usd)}  ${calls}  today (${b.period})`;
  // Each session has its own ceiling: the one nearest it, then the day's cap across them.
  const sessions = `${b.sessions} session${b.sessions === 1 ? '' : 's'}`;
  const nearest =
    b.session_id !== undefined ? `session ${inline(b.session_id)}: ${meter(b.spent_usd, b.max_usd)}  ${calls}` : 'no session yet';
  const today = b.daily_usd !== undefined ? `  · today ${meter(b.daily_spent_usd ?? 0, b.daily_usd)}` : '';
  return `  ${name}  ${nearest}  (${sessions})${today}`;
}

export function duration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s}s` : `${s}s`;
}
