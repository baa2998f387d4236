/**
 * `faramesh audit ls` and `faramesh audit stats`: decisions of a recent window, listed or counted,
 * from the files in one streaming pass (a long log is never held whole).
 */
import { sinceProblem, sinceSeconds } from '../../since.js';
import { makeOut, table, type Out } from '../../output.js';
import { eachLogRecord, readFailure, type AuditPathOptions } from './paths.js';
import { inline } from '../../output.js';
import { NOT_ENFORCED, notEnforced } from './render.js';

type Rec = Record<string, unknown>;
type Effect = 'permit' | 'defer' | 'deny';

export interface QueryOptions extends AuditPathOptions {
  since?: string;
  agent?: string;
  tool?: string;
  effect?: Effect;
  format: 'text' | 'json';
  noColor?: boolean;
}

/**
 * The decisions of the window that pass the filters, each handed to `visit`; the window's start, or
 * the exit code after saying why the log could not be read (64: a bad --since).
 */
function scan(o: QueryOptions, out: Out, visit: (r: Rec) => void): { from: number | undefined } | number {
  let from: number | undefined;
  if (o.since !== undefined) {
    const seconds = sinceSeconds(o.since);
    if (seconds === undefined) {
      out.error(out.fail(sinceProblem(o.since)));
      return 64;
    }
    from = Date.now() - seconds * 1000;
  }
  try {
    eachLogRecord(
      o,
      ({ record: r }) => {
        if (r.type !== 'decision') return;
        if (from !== undefined && !(Date.parse(String(r.time)) >= from)) return;
        if ((o.agent !== undefined && r.agent_id !== o.agent) || (o.tool !== undefined && r.tool !== o.tool)) return;
        if (o.effect !== undefined && r.effect !== o.effect) return;
        visit(r);
      },
      from,
    );
  } catch (e) {
    out.error(out.fail(readFailure(e)));
    return 1;
  }
  return { from };
}

export interface LsOptions extends QueryOptions {
  limit: string;
}

/** The newest `--limit` decisions of the window, oldest first; says how many more there were. */
export function lsCmd(o: LsOptions): number {
  const out = makeOut(o.noColor);
  const limit = Number(o.limit);
  if (!Number.isSafeInteger(limit) || limit <= 0) {
    out.error(out.fail(`--limit: '${o.limit}' is not a positive count`));
    return 64;
  }
  let kept: Rec[] = [];
  let matched = 0;
  const done = scan(o, out, (r) => {
    matched++;
    kept.push(r);
    // Trimmed now and then, not on every record: the newest `limit` are kept in linear time.
    if (kept.length >= 2 * limit) kept = kept.slice(-limit);
  });
  if (typeof done === 'number') return done;
  const rows = kept.slice(-limit).map((r) => ({
    time: String(r.time),
    action_id: `action-${String(r.id)}`,
    agent_id: String(r.agent_id),
    tool: String(r.tool),
    effect: String(r.effect).toUpperCase(),
    code: typeof r.code === 'string' ? r.code : null,
    reason: (r.denial as { human_message?: unknown } | undefined)?.human_message ?? null,
    request_id: typeof r.request_id === 'string' ? r.request_id : null,
    // Under `mode = "audit"` the agent was told PERMIT: a deny or defer listed here must not pass for a block.
    enforced: !notEnforced(r),
  }));
  if (o.format === 'json') {
    out.print(JSON.stringify({ matched, shown: rows.length, decisions: rows }, null, 2));
    return 0;
  }
  if (rows.length === 0) {
    out.print('no decisions match');
    return 0;
  }
  out.print(
    table(
      ['TIME', 'ACTION', 'AGENT', 'TOOL', 'EFFECT', 'REASON'],
      rows.map((r) =>
        [
          r.time,
          r.action_id,
          r.agent_id,
          r.tool,
          r.effect,
          `${r.enforced ? '' : `${NOT_ENFORCED}  `}${[r.code, r.reason].filter(Boolean).join(': ') || '—'}`,
        ].map(inline),
      ),
    ),
  );
  if (matched > rows.length) out.note(`(${matched - rows.length} older matching decisions not shown: raise --limit or narrow --since)`);
  return 0;
}

const TOP = 10;

/** Counts by effect, and the top tools, agents and denial codes, over the window. */
export function statsCmd(o: QueryOptions): number {
  const out = makeOut(o.noColor);
  const effects: Record<Effect, number> = { permit: 0, defer: 0, deny: 0 };
  const unenforced = { defer: 0, deny: 0 };
  const tools = new Map<string, number>();
  const agents = new Map<string, number>();
  const codes = new Map<string, number>();
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  let total = 0;
  let usd = 0;
  const done = scan(o, out, (r) => {
    total++;
    if (r.effect === 'permit' || r.effect === 'defer' || r.effect === 'deny') effects[r.effect]++;
    if (notEnforced(r) && (r.effect === 'defer' || r.effect === 'deny')) unenforced[r.effect]++;
    bump(tools, String(r.tool));
    bump(agents, String(r.agent_id));
    if (r.effect !== 'permit' && typeof r.code === 'string') bump(codes, r.code);
    const cost = (r.cost as { usd?: unknown } | undefined)?.usd;
    if (typeof cost === 'number' && Number.isFinite(cost)) usd += cost;
  });
  if (typeof done === 'number') return done;
  const top = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, TOP)
      .map(([name, count]) => ({ name, count }));
  const stats = {
    since: o.since ?? null,
    from: done.from === undefined ? null : new Date(done.from).toISOString(),
    total,
    effects,
    not_enforced: unenforced,
    cost_usd: usd,
    tools: top(tools),
    agents: top(agents),
    denial_codes: top(codes),
  };
  if (o.format === 'json') {
    out.print(JSON.stringify(stats, null, 2));
    return 0;
  }
  const title = `Decisions (${o.since ? `last ${o.since}` : 'the whole log'})`;
  const share = (n: number) => (total === 0 ? '' : `  (${((100 * n) / total).toFixed(1)}%)`);
  const width = String(total.toLocaleString('en-US')).length;
  const count = (n: number) => n.toLocaleString('en-US').padStart(width);
  out.print([title, '─'.repeat(title.length)].join('\n'));
  out.print(`total   ${count(total)}`);
  for (const e of ['permit', 'defer', 'deny'] as const) out.print(`${e.padEnd(8)}${count(effects[e])}${share(effects[e])}`);
  if (unenforced.defer + unenforced.deny > 0)
    out.print(`not enforced (runtime mode audit, the calls ran): defer ${unenforced.defer} · deny ${unenforced.deny}`);
  if (usd > 0) out.print(`cost    $${usd.toFixed(4)}`);
  const block = (heading: string, rows: { name: string; count: number }[]) => {
    if (rows.length === 0) return;
    const names = rows.map((r) => inline(r.name));
    const w = Math.max(...names.map((n) => n.length));
    out.print(`\n${heading}`);
    rows.forEach((r, i) => out.print(`  ${names[i]!.padEnd(w)}  ${r.count.toLocaleString('en-US')}`));
  };
  block('Top tools', stats.tools);
  block('Top agents', stats.agents);
  block('Top denial codes', stats.denial_codes);
  return 0;
}
