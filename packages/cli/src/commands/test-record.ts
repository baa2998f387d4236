/**
 * faramesh test record [--since 24h] [--out tests/recorded.fmtest.json] [--agent ID] [--force]:
 * fixtures from real traffic. Each tool an agent called in the window becomes one case expecting
 * what was decided the last time, so a later `faramesh test` fails when that decision changes.
 *
 * The log keeps no argument values. A case is written only when the policy that made the decision
 * gives the same decision without them: its rules decided it whatever the arguments were (the
 * engine's `ruleOutcome`), and the whole pipeline, run on empty arguments at the recorded time,
 * agrees. Every other decision is reported with what it depends on, for a hand-written case.
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { eachRecord } from '@faramesh/audit';
import { stackPaths } from '@faramesh/daemon';
import { decide, emptyState, ruleOutcome } from '@faramesh/engine';
import { parseDuration } from '@faramesh/fpl';
import type { Fixture, FixtureCase } from '../fixtures.js';
import { makeOut, plural, table } from '../output.js';
import { walDir } from './audit/paths.js';
import { AppliedPolicies, decidedBy, NOT_DECISIONS, type Recorded } from './plan/recorded.js';

export interface RecordOptions {
  dir: string;
  since: string;
  out: string;
  agent?: string;
  force?: boolean;
  noColor?: boolean;
}

interface Kept {
  agent: string;
  timeMs: number;
  seen: number;
  /** The tool's recorded decision changed within the window (the latest is kept). */
  changed: boolean;
  case: FixtureCase;
}

const WIRE = { permit: 'PERMIT', defer: 'DEFER', deny: 'DENY' } as const;

/** Exit 0 written; 1 nothing to record, an unreadable log or a file in the way; 64 bad options. */
export function recordFixtures(o: RecordOptions): number {
  const out = makeOut(o.noColor);
  const seconds = parseDuration(o.since);
  if (seconds === undefined) {
    out.error(out.fail(`--since: '${o.since}' is not a duration (24h, 7d, 30m)`));
    return 64;
  }
  if (!o.out.endsWith('.fmtest.json')) {
    out.error(out.fail(`--out: '${o.out}' must end in .fmtest.json (faramesh test reads tests/*.fmtest.json)`));
    return 64;
  }
  const log = walDir({ stack: o.dir });
  if (!existsSync(log)) {
    out.error(out.fail(`no audit log at ${log}: nothing has been decided yet`));
    return 1;
  }
  const fromMs = Date.now() - seconds * 1000;
  const applied = new AppliedPolicies(stackPaths(o.dir));
  const kept = new Map<string, Kept>();
  /** Why a decision was not recorded → the tools it happened to, with counts. */
  const skipped = new Map<string, Map<string, number>>();
  let read = 0;
  try {
    eachRecord(log, ({ record }) => {
      if (record.type !== 'decision') return;
      const r = record as unknown as Recorded;
      const timeMs = Date.parse(r.time);
      if (!(timeMs >= fromMs) || (o.agent !== undefined && r.agent_id !== o.agent)) return;
      read++;
      const judged = judge(r, timeMs, applied);
      if (typeof judged === 'string') {
        const tools = skipped.get(judged) ?? new Map<string, number>();
        tools.set(r.tool, (tools.get(r.tool) ?? 0) + 1);
        skipped.set(judged, tools);
        return;
      }
      const key = `${r.agent_id}\u0000${r.tool}`;
      const before = kept.get(key);
      const changed = before !== undefined && JSON.stringify(before.case.expect) !== JSON.stringify(judged.expect);
      kept.set(key, { agent: r.agent_id, timeMs, seen: (before?.seen ?? 0) + 1, changed: changed || !!before?.changed, case: judged });
    });
  } catch (e) {
    out.error(out.fail(`${(e as Error).message}${(e as Error).name === 'LogCorruptError' ? ' (run faramesh audit verify)' : ''}`));
    return 1;
  }
  const byAgent = new Map<string, Kept[]>();
  for (const k of kept.values()) byAgent.set(k.agent, [...(byAgent.get(k.agent) ?? []), k]);
  const target = resolve(o.dir, o.out);
  const files = [...byAgent].map(([agent, cases]) => ({
    agent,
    cases: cases.sort((a, b) => a.timeMs - b.timeMs),
    path: byAgent.size === 1 ? target : target.replace(/\.fmtest\.json$/, `.${agent.replace(/[^A-Za-z0-9_.-]/g, '_')}.fmtest.json`),
  }));
  const inTheWay = files.filter((f) => existsSync(f.path)).map((f) => f.path);
  if (inTheWay.length > 0 && !o.force) {
    out.error(out.fail(`${inTheWay.join(', ')} already exists: pass --force to replace it (or choose --out)`));
    return 1;
  }
  const window = `last ${o.since}`;
  for (const f of files) {
    const fixture: Fixture = {
      fixture: `recorded from the audit log (${window} before ${new Date().toISOString()})`,
      agent_id: f.agent,
      cases: f.cases.map((k) => ({
        ...k.case,
        name: `${k.case.name} (seen ${k.seen}×${k.changed ? '; changed within the window, latest kept' : ''})`,
      })),
    };
    mkdirSync(dirname(f.path), { recursive: true });
    const tmp = `${f.path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(fixture, null, 2) + '\n');
    renameSync(tmp, f.path);
    out.print(out.ok(`${plural(f.cases.length, 'case')} for agent ${f.agent} → ${f.path}`));
  }
  const recorded = [...kept.values()].reduce((n, k) => n + k.seen, 0);
  out.print(`${plural(read, 'decision')} read (${window}); ${recorded} recorded as ${plural(kept.size, 'case')}.`);
  if (skipped.size > 0) {
    out.print('\nNot recorded (the log keeps no argument values; write these cases by hand):');
    const rows = [...skipped].flatMap(([why, tools]) => [...tools].map(([tool, n]) => [`  ${tool}`, String(n), why]));
    out.print(table(['  TOOL', 'CALLS', 'WHY'], rows));
  }
  if (files.length === 0) {
    out.error(out.fail(read === 0 ? `no decisions in the ${window}` : 'no decision could be recorded: nothing written'));
    return 1;
  }
  out.print(`\nRun faramesh test${o.dir === '.' ? '' : ` --dir ${o.dir}`} to check them against governance.fms.`);
  return 0;
}

/** The case that reproduces a recorded decision without its arguments, or why there is none. */
function judge(r: Recorded, timeMs: number, applied: AppliedPolicies): FixtureCase | string {
  if ((r.action_type ?? 'tool_call') !== 'tool_call') return `a ${r.action_type} (fixtures hold tool calls)`;
  if (r.code !== undefined && NOT_DECISIONS.has(r.code)) return `${r.code}: the daemon could not decide`;
  if (r.delegation_chain?.length) return 'a delegated call (a fixture cannot carry its delegation)';
  const before = applied.get(r.policy_version);
  if (!before) return 'its policy is not among the signed versions apply kept';
  const stage = decidedBy(r, before);
  if (typeof stage === 'string') return `${stage} decided it, not the rules`;
  const rules = ruleOutcome(before.policy, { agent_id: r.agent_id, tool: r.tool, time_ms: timeMs, delegation_chain: [] });
  if (rules.kind === 'depends') return `depends on ${rules.on.join(', ')}`;
  if (rules.effect !== WIRE[stage.effect]) return 'its rules give another effect without its arguments';
  // The whole pipeline on empty arguments, as `faramesh test` will run the case.
  const state = emptyState();
  state.policy_applied_ms = timeMs;
  const { decision } = decide(before.policy, { agent_id: r.agent_id, tool: r.tool, args: {} }, state, { nowMs: timeMs });
  if (decision.effect !== rules.effect) return `without its arguments ${decision.code ?? decision.effect} decides it`;
  return {
    name: `${r.tool} → ${decision.effect}`,
    tool: r.tool,
    now: new Date(timeMs).toISOString(),
    expect: { effect: decision.effect, ...(decision.effect !== 'PERMIT' && decision.code ? { code: decision.code } : {}) },
  };
}
