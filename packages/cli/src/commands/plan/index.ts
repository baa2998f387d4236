/**
 * `faramesh plan [--dir] [--format text|json] [--since 24h] [--strict-replay]`: the dry run of apply.
 * It compiles governance.fms as apply would, diffs it against the policy in force (the running
 * daemon's, else the one apply last signed), and replays the log's recent decisions under it. It
 * writes nothing, starts nothing and contacts no provider.
 */
import { existsSync } from 'node:fs';
import { sinceProblem, sinceSeconds } from '../../since.js';
import { stackPaths } from '@faramesh/daemon';
import { makeOut, type Out } from '../../output.js';
import { readFailure, walDir } from '../audit/paths.js';
import { compileForDaemon } from '../daemon/prepare.js';
import { policyInForce, type PolicyInForce } from '../daemon/policy-in-force.js';
import { diffPolicies, type DiffEntry } from './diff.js';
import { renderPlan } from './render.js';
import { replay, type ReplayResult } from './replay.js';

export interface PlanOptions {
  dir: string;
  format: 'text' | 'json';
  since: string;
  strictReplay?: boolean;
  noColor?: boolean;
}

export interface Plan {
  version: 'v1';
  policy_version: string;
  baseline: { policy_version: string; source: PolicyInForce['source'] } | null;
  diff: Record<
    string,
    {
      added: Omit<DiffEntry, 'change' | 'kind'>[];
      removed: Omit<DiffEntry, 'change' | 'kind'>[];
      changed: Omit<DiffEntry, 'change' | 'kind'>[];
    }
  >;
  replay: ReplayResult;
}

/** Kinds that are one block or one map each, not a list of items: their group keeps the kind's name. */
const SINGULAR = new Set(['runtime', 'trust', 'egress', 'model_policy', 'session', 'spawn', 'completion_gate', 'enforcement', 'ambient']);
const groupOf = (kind: string) => (kind === 'identity' ? 'identities' : SINGULAR.has(kind) ? kind : `${kind}s`);

/** The groups the JSON always has, even when empty (others appear when something of theirs changed). */
const ALWAYS = ['rules', 'rate_limits', 'budgets', 'providers'];

export async function plan(o: PlanOptions): Promise<number> {
  const out = makeOut(o.noColor);
  const seconds = sinceSeconds(o.since);
  if (seconds === undefined) {
    out.error(out.fail(sinceProblem(o.since)));
    return 64;
  }
  const paths = stackPaths(o.dir);
  // JSON goes to stdout alone: compile's progress lines go to stderr then.
  const progress: Out = o.format === 'json' ? { ...out, print: out.error } : out;
  const prepared = await compileForDaemon(paths, progress, 'nothing to plan');
  // Exit 2 is --strict-replay's: every compile failure (an unresolved import included) is 1 here.
  if (typeof prepared === 'number') {
    // A script reading stdout (`plan --format json > plan.json`) gets an answer; the diagnostics are on stderr.
    if (o.format === 'json')
      process.stdout.write(
        `${JSON.stringify({ version: 'v1', error: 'the policy does not compile: nothing to plan (diagnostics on stderr)' }, null, 2)}\n`,
      );
    return 1;
  }
  let baseline: PolicyInForce | undefined;
  try {
    baseline = await policyInForce(paths);
  } catch (e) {
    out.error(out.fail(`the policy in force could not be read: ${(e as Error).message}`));
    return 1;
  }
  let result: Plan;
  const entries = diffPolicies(baseline?.ir, prepared.ir);
  try {
    const log = walDir({ stack: o.dir });
    result = {
      version: 'v1',
      policy_version: prepared.compiled.policy_version,
      baseline: baseline ? { policy_version: baseline.policy_version, source: baseline.source } : null,
      diff: groupDiff(entries),
      replay: replay(paths, existsSync(log) ? log : null, prepared.ir, { text: o.since, seconds }, Date.now()),
    };
  } catch (e) {
    out.error(out.fail(readFailure(e)));
    return 1;
  }
  if (o.format === 'json') process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else out.print(renderPlan(result, entries, prepared.name, out.color));
  const changes = Object.keys(result.replay.transitions).length + result.replay.undetermined.length;
  return o.strictReplay && changes > 0 ? 2 : 0;
}

function groupDiff(entries: DiffEntry[]): Plan['diff'] {
  const groups: Plan['diff'] = {};
  for (const g of ALWAYS) groups[g] = { added: [], removed: [], changed: [] };
  for (const { change, kind, ...item } of entries) {
    const g = (groups[groupOf(kind)] ??= { added: [], removed: [], changed: [] });
    g[change].push(item);
  }
  return groups;
}
