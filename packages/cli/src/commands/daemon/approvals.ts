/**
 * `faramesh approvals list|pending|show|approve|deny|history|watch`: the operator's side of deferred
 * calls, over the operator channel only. An approval lets the identical call run once.
 */
import { Command, Option } from 'commander';
import { sinceProblem, sinceSeconds } from '../../since.js';
import { operatorCall, stackPaths, type Approval } from '@faramesh/daemon/client';
import { inline, makeOut, table, type Out } from '../../output.js';
import { guarded, operatorName, UsageError } from './operator.js';
import { duration } from './status.js';

type Shown = Omit<Approval, 'binding'>;
/** A word with nothing in it that could end it or start another `key=value`. */
const BARE = /^[A-Za-z_/][\w./@:+-]*$/;
/** Words JSON would read as other than a string. */
const LITERAL = /^(?:true|false|null|Infinity|NaN)$/;
interface ListOptions {
  dir: string;
  agent?: string;
  status?: string;
  since?: string;
  json?: boolean;
  format?: 'text' | 'json';
}

export function approvalsCommand(setCode: (code: number) => void, noColor: () => boolean): Command {
  const cmd = new Command('approvals').description('list, inspect and resolve deferred calls (operator channel)');
  const dir = (c: Command) => c.option('--dir <dir>', 'stack directory', '.');
  const listing = (c: Command) =>
    dir(c)
      .option('--agent <id>', 'only this agent')
      .option('--since <duration>', 'only approvals deferred this recently (24h, 7d)')
      .option('--json', 'JSON output (same as --format json)')
      .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'));
  const run = (f: (out: Out) => Promise<number>) => async () => setCode(await guarded(makeOut(noColor()), f));

  listing(cmd.command('list').description('approvals (pending unless --status says otherwise)'))
    .addOption(new Option('--status <status>', 'which approvals').choices(['pending', 'approved', 'denied', 'expired', 'all']))
    .action((o: ListOptions) => run((out) => list(out, o, o.status ?? 'pending'))());
  listing(cmd.command('pending').description('pending approvals')).action((o: ListOptions) => run((out) => list(out, o, 'pending'))());
  listing(cmd.command('history').description('approvals resolved or expired in the last 24h (or --since)')).action((o: ListOptions) =>
    run((out) => history(out, { ...o, since: o.since ?? '24h' }))(),
  );
  dir(cmd.command('show').description('one approval in full').argument('<approval-id>'))
    .option('--json', 'JSON output')
    .action((id: string, o: { dir: string; json?: boolean }) =>
      run(async (out) => {
        const a = await operatorCall<Shown>(stackPaths(o.dir).operatorSocket, 'approvals.show', { id });
        out.print(o.json ? JSON.stringify(a, null, 2) : detail(a));
        return 0;
      })(),
    );
  for (const verb of ['approve', 'deny'] as const)
    dir(
      cmd
        .command(verb)
        .description(verb === 'approve' ? 'let the identical call run once' : 'refuse the call')
        .argument('<approval-id>'),
    )
      .option('--reason <text>', 'why (recorded in the log)')
      .action((id: string, o: { dir: string; reason?: string }) =>
        run(async (out) => {
          const a = await operatorCall<Shown>(stackPaths(o.dir).operatorSocket, `approvals.${verb}`, {
            id,
            by: operatorName(),
            ...(o.reason ? { reason: o.reason } : {}),
          });
          out.done(
            `${a.id} ${a.status}: ${verb === 'approve' ? `the next identical ${a.tool} call by ${a.agent_id} runs once` : `${a.agent_id}'s ${a.tool} call is refused`}`,
          );
          return 0;
        })(),
      );
  dir(cmd.command('watch').description('print each new pending approval until interrupted'))
    .option('--agent <id>', 'only this agent')
    .action((o: { dir: string; agent?: string }) => run((out) => watch(out, o))());
  return cmd;
}

/**
 * Approvals in `status`, oldest first, since `o.since` when given: deferred since then, or (`by:
 * 'resolved'`, for history) resolved since then, so one deferred a week ago and approved today is
 * in today's history.
 */
async function fetchList(o: ListOptions, status: string, by: 'deferred' | 'resolved' = 'deferred'): Promise<Shown[]> {
  const seconds = o.since === undefined ? undefined : sinceSeconds(o.since);
  if (o.since !== undefined && seconds === undefined) throw new UsageError(sinceProblem(o.since));
  const r = await operatorCall<{ approvals: Shown[] }>(stackPaths(o.dir).operatorSocket, 'approvals.list', {
    status,
    ...(o.agent ? { agent: o.agent } : {}),
  });
  const from = seconds === undefined ? -Infinity : Date.now() - seconds * 1000;
  const when = (a: Shown) => (by === 'resolved' ? (a.resolved_at ?? a.deferred_at) : a.deferred_at);
  return r.approvals.filter((a) => Date.parse(when(a)) >= from).sort((a, b) => a.deferred_at.localeCompare(b.deferred_at));
}

/** The JSON form: each approval with its `context`, the reason the rule gave for deferring it. */
const asJson = (approvals: Shown[]) =>
  JSON.stringify({ approvals: approvals.map((a) => (a.reason === undefined ? a : { ...a, context: a.reason })) }, null, 2);

async function list(out: Out, o: ListOptions, status: string): Promise<number> {
  const approvals = await fetchList(o, status);
  if (o.json || o.format === 'json') {
    out.print(asJson(approvals));
    return 0;
  }
  out.print('Approval Queue\n──────────────');
  out.print(`NOTE: ${approvals.length} ${status === 'all' ? '' : `${status} `}approval(s)`);
  if (approvals.length > 0)
    out.print(
      table(
        ['APPROVAL ID', 'AGENT', 'TOOL', 'STATUS', 'AGE', 'CONTEXT'],
        approvals.map((a) => [a.id, a.agent_id, a.tool, statusLabel(a), age(a.deferred_at), context(a)]),
      ),
    );
  return 0;
}

async function history(out: Out, o: ListOptions): Promise<number> {
  const approvals = (await fetchList(o, 'all', 'resolved')).filter((a) => a.status !== 'pending');
  if (o.json || o.format === 'json') {
    out.print(asJson(approvals));
    return 0;
  }
  out.print(`Approval History (${o.since ?? '24h'}, ${approvals.length} records)`);
  if (approvals.length > 0)
    out.print(
      table(
        ['ID', 'AGENT', 'TOOL', 'STATUS', 'DURATION', 'REASON'],
        approvals.map((a) => [
          a.id,
          a.agent_id,
          a.tool,
          statusLabel(a),
          a.resolved_at ? duration(Math.round((Date.parse(a.resolved_at) - Date.parse(a.deferred_at)) / 1000)) : '—',
          a.resolution_reason ? JSON.stringify(a.resolution_reason) : '—',
        ]),
      ),
    );
  return 0;
}

async function watch(out: Out, o: { dir: string; agent?: string }): Promise<number> {
  const seen = new Set<string>();
  for (;;) {
    for (const a of await fetchList({ dir: o.dir, ...(o.agent ? { agent: o.agent } : {}) }, 'pending'))
      if (!seen.has(a.id)) {
        seen.add(a.id);
        out.print(`[${a.deferred_at}] ${a.id}  ${inline(a.agent_id)}  ${inline(a.tool)}  ${inline(context(a))}`);
      }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** The status as shown: an operator's decision that lapsed unused keeps its name (EXPIRED is for no decision). */
/** An approval's action id as `action-…`, as every surface writes it (an older daemon gives it bare). */
export const actionRef = (id: string): string => (id.startsWith('action-') ? id : `action-${id}`);

export function statusLabel(a: Pick<Shown, 'status' | 'lapsed'>): string {
  return a.lapsed ? `${a.lapsed.toUpperCase()}, LAPSED UNUSED` : a.status.toUpperCase();
}

function detail(a: Shown): string {
  return [
    'Approval Detail',
    '───────────────',
    `Approval ID:  ${a.id}`,
    `Status:       ${statusLabel(a)}`,
    `Agent:        ${inline(a.agent_id)}`,
    `Tool:         ${inline(a.tool)}`,
    `Rule ref:     ${a.rule_ref ?? '—'}${a.reason ? `  (${inline(a.reason)})` : ''}`,
    // Dropped from the book an hour after the approval was done: `{}` would read as a call without any.
    // JSON escapes only C0 controls: a C1 one (U+009B is CSI) would reach the terminal as it was sent.
    a.args_dropped
      ? 'Args:         (dropped from the book an hour after it was done; the log keeps their hash)'
      : `Args:         ${inline(JSON.stringify(a.args))}  (after redaction, as recorded)`,
    ...(a.cost_usd !== undefined ? [`Cost:         ${usd(a.cost_usd)}  (what this call spends if approved)`] : []),
    `Deferred at:  ${a.deferred_at}`,
    `Expires at:   ${a.expires_at}`,
    `Action id:    ${actionRef(a.action_id)}`,
    ...(a.resolved_at
      ? [
          `Resolved:     ${a.lapsed ?? a.status} by ${inline(a.resolved_by ?? '—')} at ${a.resolved_at}${a.resolution_reason ? ` ("${inline(a.resolution_reason)}")` : ''}`,
        ]
      : []),
    ...(a.used_at ? [`Used at:      ${a.used_at}`] : []),
    ...(a.status === 'pending' ? ['', `NEXT STEP: faramesh approvals approve ${a.id} --reason "..."`] : []),
  ].join('\n');
}

/** Dollars as an operator reads them: cents, or two significant digits below a cent. */
const usd = (n: number) => `$${n >= 0.01 ? n.toFixed(2) : n.toPrecision(2)}`;

const age = (iso: string) => duration(Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000)));

/**
 * The arguments on one line, `key=value` each. A string is bare only when it reads as nothing else:
 * `"100"` would pass for the number, and `"alice amount=5"` for two arguments, on the line an
 * operator approves by. Keys are the agent's too, so they are held to the same.
 */
export function context(a: Pick<Shown, 'args'>): string {
  const shown = (v: unknown) => (typeof v === 'string' && BARE.test(v) && !LITERAL.test(v) ? v : JSON.stringify(v));
  const text = Object.entries(a.args)
    .map(([k, v]) => `${shown(k)}=${shown(v)}`)
    .join(' ');
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
