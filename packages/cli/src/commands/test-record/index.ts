/**
 * faramesh test record [--since 24h] [--out tests/recorded.fmtest.json] [--agent ID] [--force]:
 * fixtures from real traffic. Each tool an agent called in the window becomes one case expecting
 * what was decided the last time, so a later `faramesh test` fails when that decision changes.
 * Which decisions can be cases is `cases.ts`; every other one is reported with the reason.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { checkFields, eachRecord } from '@faramesh/audit';
import { stackPaths } from '@faramesh/daemon';
import { sinceProblem, sinceSeconds } from '../../since.js';
import type { Fixture } from '../../fixtures.js';
import { makeOut, plural, table } from '../../output.js';
import { readFailure, walDir } from '../audit/paths.js';
import { AppliedPolicies, type Recorded } from '../plan/recorded.js';
import { caseOf, inSequence, type Kept } from './cases.js';

export interface RecordOptions {
  dir: string;
  since: string;
  out: string;
  agent?: string;
  force?: boolean;
  noColor?: boolean;
}

/** Exit 0 written; 1 nothing to record, an unreadable or damaged log, or a file in the way; 64 bad options. */
export function recordFixtures(o: RecordOptions): number {
  const out = makeOut(o.noColor);
  const seconds = sinceSeconds(o.since);
  if (seconds === undefined) {
    out.error(out.fail(sinceProblem(o.since)));
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
  const skip = (why: string, tool: string, n = 1) => {
    const tools = skipped.get(why) ?? new Map<string, number>();
    tools.set(tool, (tools.get(tool) ?? 0) + n);
    skipped.set(why, tools);
  };
  let read = 0;
  try {
    eachRecord(
      log,
      ({ seq, record }) => {
        if (record.type !== 'decision') return;
        // Read back from disk: judged only once it has the shape of a decision.
        const malformed = checkFields(record)[0];
        if (malformed) throw new Error(`record ${seq} is malformed: '${malformed.field}' ${malformed.reason} (run faramesh audit verify)`);
        const r = record as unknown as Recorded & { session_id?: string };
        const timeMs = Date.parse(r.time);
        if (!(timeMs >= fromMs) || (o.agent !== undefined && r.agent_id !== o.agent)) return;
        read++;
        const judged = caseOf(r, timeMs, applied);
        if (typeof judged === 'string') return skip(judged, r.tool);
        const key = `${r.agent_id}\u0000${r.tool}`;
        const before = kept.get(key);
        const changed = !!before && (before.changed || JSON.stringify(before.case.expect) !== JSON.stringify(judged.case.expect));
        kept.set(key, { agent: r.agent_id, timeMs, seen: (before?.seen ?? 0) + 1, changed, ...judged });
      },
      fromMs,
    );
  } catch (e) {
    out.error(out.fail(readFailure(e)));
    return 1;
  }
  const byAgent = new Map<string, Kept[]>();
  for (const k of kept.values()) byAgent.set(k.agent, [...(byAgent.get(k.agent) ?? []), k]);
  const files = [...byAgent]
    .map(([agent, cases]) => ({
      agent,
      cases: inSequence(
        agent,
        cases.sort((a, b) => a.timeMs - b.timeMs),
        (k, why) => skip(why, k.case.tool, k.seen),
      ),
      path: fixturePath(resolve(o.dir, o.out), agent, byAgent.size),
    }))
    .filter((f) => f.cases.length > 0);
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
    const tmp = `${f.path}.${process.pid}.tmp`;
    try {
      mkdirSync(dirname(f.path), { recursive: true });
      writeFileSync(tmp, JSON.stringify(fixture, null, 2) + '\n');
      renameSync(tmp, f.path);
    } catch (e) {
      try {
        rmSync(tmp, { force: true });
      } catch {
        // No directory to hold it: nothing was written.
      }
      out.error(out.fail(`${f.path} could not be written: ${(e as Error).message}`));
      return 1;
    }
    out.done(`${plural(f.cases.length, 'case')} for agent ${f.agent} → ${f.path}`);
  }
  const cases = files.flatMap((f) => f.cases);
  const recorded = cases.reduce((n, k) => n + k.seen, 0);
  out.print(`${plural(read, 'decision')} read (${window}); ${recorded} recorded as ${plural(cases.length, 'case')}.`);
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

/**
 * One file per agent when there are several: `<name>.<agent>.fmtest.json`. An id that is not safe
 * as a file name is spelt safely and suffixed with its hash, so two agents never share a file.
 */
function fixturePath(target: string, agent: string, agents: number): string {
  if (agents === 1) return target;
  const safe = agent.replace(/[^A-Za-z0-9_.-]/g, '_');
  const name = safe === agent ? agent : `${safe}-${createHash('sha256').update(agent).digest('hex').slice(0, 8)}`;
  return target.replace(/\.fmtest\.json$/, `.${name}.fmtest.json`);
}
