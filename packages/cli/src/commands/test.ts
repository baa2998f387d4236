import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { applyDelta, decide, emptyState, namedByRule, prepare } from '@faramesh/engine';
import { diagnosticToJson, StackError } from '@faramesh/fpl';
import type { Decision } from '@faramesh/protocol';
import { fixtureProblems, requestOf, type Fixture, type FixtureCase } from '../fixtures.js';
import { makeOut, plural, type Format, type Out } from '../output.js';
import { renderDiagnostic } from '../diagnostics.js';
import { compileStack, type StackCompile } from '../stack-compile.js';

export interface TestOptions {
  dir: string;
  fixture?: string;
  failFast?: boolean;
  update?: boolean;
  format?: Format;
  noColor?: boolean;
}

type Expect = FixtureCase['expect'];
type Got = { effect: Decision['effect']; code: string | null; rule_ref: string | null };

/** One fixture's run, as both the text and the JSON report show it. */
interface FixtureReport {
  fixture: string;
  file: string;
  agent_id: string | null;
  /** The cases run, in order (--fail-fast stops at the first mismatch). */
  cases: { name: string; tool: string; passed: boolean; expected: Expect; got: Got; diff: string | null; note?: string }[];
  /** Why the fixture could not run; it then counts as one failure. */
  problems: string[];
  /** With --update: the expectations rewritten. */
  updated?: { name: string; from: Expect; to: Expect }[];
}

/** faramesh test: run policy fixtures against the compiled policy (exit 0 pass, 1 failures, 2 compile failure). */
export async function runTests(opts: TestOptions): Promise<number> {
  const out = makeOut(opts.noColor);
  const json = opts.format === 'json';
  // --fail-fast would stop --update at its first rewrite, and the run would pass (exit 0) with the
  // cases after it never run: a fixture left failing, reported as fixed.
  if (opts.update && opts.failFast) {
    out.error(out.fail('--update and --fail-fast are exclusive: --update runs every case so that it can rewrite every failing one'));
    return 64;
  }
  let compiled: StackCompile;
  try {
    compiled = await compileStack(opts.dir);
  } catch (e) {
    // No policy to test is a compile failure, as `check` would say.
    if (!(e instanceof StackError)) throw e;
    out.error(out.fail(e.message));
    // A script reading stdout gets an answer, as `check --format json` gives one.
    if (json) out.print(JSON.stringify({ compiled: false, error: e.message, diagnostics: [] }, null, 2));
    return 2;
  }
  const { stack, result } = compiled;
  if (!json) process.stdout.write(`Compiling ${stack.source.name} ... `);
  if (!result.ir) {
    if (!json) out.print('failed');
    for (const d of result.diagnostics.sorted()) out.error(renderDiagnostic(d, out.color) + '\n');
    if (json)
      out.print(
        JSON.stringify(
          { policy: stack.source.name, compiled: false, diagnostics: result.diagnostics.sorted().map(diagnosticToJson) },
          null,
          2,
        ),
      );
    return 2;
  }
  if (!json) out.print('ok');
  const policy = prepare(result.ir);
  const files = fixtureFiles(opts);
  if (files.length === 0) {
    out.error(out.fail(`no fixtures: expected tests/*.fmtest.json under ${opts.dir}`));
    return 1;
  }
  const loaded = files.map((path) => ({ path, ...load(path) }));
  // Top-level rules govern agents without a block of their own: then any id is one.
  const agents = policy.flat ? undefined : result.ir.agents.map((a) => a.id);
  const reports: FixtureReport[] = [];
  // --update: the rewrites, made once their diffs are printed.
  const rewrites: (() => void)[] = [];
  for (const f of loaded) {
    const report = runFixture(f, policy, agents, opts, rewrites);
    reports.push(report);
    if (opts.failFast && failures(report) > 0) break;
  }
  const passed = reports.reduce((n, r) => n + r.cases.filter((c) => c.passed).length, 0);
  const failed = reports.reduce((n, r) => n + failures(r), 0);
  const updated = reports.reduce((n, r) => n + (r.updated?.length ?? 0), 0);
  if (json) out.print(JSON.stringify({ policy: stack.source.name, fixtures: reports, passed, failed }, null, 2));
  else {
    const cases = loaded.reduce((n, f) => n + (f.fixture?.cases.length ?? 0), 0);
    out.print(`Running ${plural(loaded.length, 'fixture')}, ${plural(cases, 'case')} ...\n`);
    for (const r of reports) printFixture(out, r);
    out.print(`${passed} passed, ${failed} failed${updated > 0 ? `, ${updated} updated` : ''}`);
  }
  for (const rewrite of rewrites) rewrite();
  // A case updated now expects what it got: only what could not be updated still fails the run.
  return failed - updated > 0 ? 1 : 0;
}

const failures = (r: FixtureReport) => (r.problems.length > 0 ? 1 : r.cases.filter((c) => !c.passed).length);

function printFixture(out: Out, r: FixtureReport): void {
  out.print(`  ${r.fixture}`);
  if (r.problems.length > 0) {
    for (const p of r.problems) out.print(`    ${out.fail(p)}`);
    return;
  }
  for (const c of r.cases) {
    if (c.passed) {
      out.print(`    ${out.ok(c.name)}`);
      if (c.note) out.print(`        note: ${c.note}`);
      continue;
    }
    out.print(`    ${out.fail(c.name)}`);
    out.print(`        expected: ${describeExpect(c.expected)}`);
    out.print(`        got:      ${describeDecision(c.got)}`);
    out.print(`        diff:     ${c.diff}`);
  }
  if (r.updated?.length) {
    out.print(`    updating ${basename(r.file)}:`);
    for (const u of r.updated) out.print(`      ${u.name}: ${JSON.stringify(u.from)} → ${JSON.stringify(u.to)}`);
  }
  out.print('');
}

function fixtureFiles(opts: TestOptions): string[] {
  // As given from where the command runs, else under the stack (`--dir stack --fixture tests/a.fmtest.json`).
  if (opts.fixture) return [existsSync(opts.fixture) ? resolve(opts.fixture) : resolve(opts.dir, opts.fixture)];
  const dir = join(opts.dir, 'tests');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.fmtest.json'))
    .sort()
    .map((f) => join(dir, f));
}

function load(path: string): { fixture?: Fixture; problems: string[] } {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    return { problems: [`${basename(path)}: ${(e as Error).message}`] };
  }
  const problems = fixtureProblems(data);
  return problems.length > 0 ? { problems: problems.map((p) => `${basename(path)}: ${p}`) } : { fixture: data as Fixture, problems: [] };
}

/** The cases of one fixture run in order against one fresh state; with --update, the file rewritten. */
function runFixture(
  f: { path: string; fixture?: Fixture; problems: string[] },
  policy: ReturnType<typeof prepare>,
  agents: string[] | undefined,
  opts: TestOptions,
  rewrites: (() => void)[],
): FixtureReport {
  const { path, fixture } = f;
  const report: FixtureReport = {
    fixture: fixture?.fixture ?? basename(path, '.fmtest.json'),
    file: path,
    agent_id: fixture?.agent_id ?? null,
    cases: [],
    problems: f.problems,
  };
  if (!fixture) return report;
  // A typo would otherwise pass every deny case against the default of no agent at all.
  if (agents && !agents.includes(fixture.agent_id)) {
    report.problems = [`agent_id '${fixture.agent_id}' is not an agent of the policy (${agents.join(', ') || 'it has none'})`];
    return report;
  }
  const state = emptyState();
  if (opts.update) report.updated = [];
  for (const c of fixture.cases) {
    const nowMs = Date.parse(c.now ?? fixture.now ?? new Date().toISOString());
    state.policy_applied_ms ??= nowMs;
    const { decision, stateDelta } = decide(policy, requestOf(fixture, c), state, { nowMs });
    applyDelta(state, stateDelta);
    const diff = compare(c.expect, decision) ?? null;
    const name = c.name ?? c.tool;
    const got = { effect: decision.effect, code: decision.code ?? null, rule_ref: decision.rule_ref ?? null };
    // A tool no rule names passes every deny case on the default: a misspelt id would hide that the
    // rule meant to deny it no longer does (or never did).
    const note =
      !diff && byDefault(decision) && !namedByRule(policy, fixture.agent_id, c.tool)
        ? `no rule names '${c.tool}': only the default decided it (is the tool id spelled as in the policy?)`
        : undefined;
    report.cases.push({ name, tool: c.tool, passed: !diff, expected: c.expect, got, diff, ...(note ? { note } : {}) });
    if (!diff) continue;
    if (report.updated) {
      const to = actualExpect(c.expect, decision);
      report.updated.push({ name, from: c.expect, to });
      c.expect = to;
    }
    if (opts.failFast) break;
  }
  if (report.updated?.length) {
    const text = JSON.stringify(fixture, null, 2) + '\n';
    rewrites.push(() => {
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, text);
      renameSync(tmp, path);
    });
  }
  return report;
}

/**
 * Decided by the agent's default, no rule matching. Only the default's denial says 'default'; a
 * refusal before the rules (an expired session, a malformed tool id, a delegation out of scope)
 * names its stage, and its message says why.
 */
const byDefault = (d: Decision): boolean =>
  !d.rule_ref &&
  d.effect === 'DENY' &&
  d.code === 'POLICY_DENY' &&
  d.resolution?.type === 'rule_block' &&
  d.resolution.rule_id === 'default';

/** Why a decision does not meet the expectation, or undefined when it does. */
function compare(expect: FixtureCase['expect'], d: Decision): string | undefined {
  if (expect.effect !== d.effect) {
    if (d.rule_ref && expect.effect !== 'PERMIT' && d.effect === 'PERMIT')
      return `rule ${d.rule_ref} permitted the call: a rule above the one you expected may match it`;
    if (byDefault(d)) return 'no rule matched, so the default applied';
    return `effect ${d.effect} instead of ${expect.effect}${d.human_message ? `: ${d.human_message}` : ''}`;
  }
  if (expect.code !== undefined && expect.code !== (d.code ?? '')) return `code ${d.code ?? '(none)'} instead of ${expect.code}`;
  if (expect.rule_ref !== undefined && expect.rule_ref !== (d.rule_ref ?? ''))
    return `decided by ${d.rule_ref ?? 'the default'} instead of ${expect.rule_ref}: rules may have been reordered`;
  return undefined;
}

function actualExpect(expect: FixtureCase['expect'], d: Decision): FixtureCase['expect'] {
  return {
    effect: d.effect,
    ...(expect.code !== undefined || d.code ? { code: d.code ?? '' } : {}),
    ...(expect.rule_ref !== undefined && d.rule_ref ? { rule_ref: d.rule_ref } : {}),
  };
}

function describeExpect(e: FixtureCase['expect']): string {
  return `${e.effect}${e.code ? ` (${e.code})` : ''}${e.rule_ref ? ` at ${e.rule_ref}` : ''}`;
}

function describeDecision(d: Got): string {
  return `${d.effect}${d.code ? ` (${d.code})` : ''}${d.rule_ref ? ` (matched rule ${d.rule_ref})` : ' (no rule matched)'}`;
}
