import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { applyDelta, decide, emptyState, prepare } from '@faramesh/engine';
import { StackError } from '@faramesh/fpl';
import type { Decision } from '@faramesh/protocol';
import { fixtureProblems, requestOf, type Fixture, type FixtureCase } from '../fixtures.js';
import { makeOut, plural, type Out } from '../output.js';
import { renderDiagnostic } from '../diagnostics.js';
import { compileStack, type StackCompile } from '../stack-compile.js';

export interface TestOptions {
  dir: string;
  fixture?: string;
  failFast?: boolean;
  update?: boolean;
  noColor?: boolean;
}

interface Outcome {
  passed: number;
  failed: number;
  stop: boolean;
}

/** faramesh test: run policy fixtures against the compiled policy (exit 0 pass, 1 failures, 2 compile failure). */
export async function runTests(opts: TestOptions): Promise<number> {
  const out = makeOut(opts.noColor);
  let compiled: StackCompile;
  try {
    compiled = await compileStack(opts.dir);
  } catch (e) {
    // No policy to test is a compile failure, as `check` would say.
    if (!(e instanceof StackError)) throw e;
    out.error(out.fail(e.message));
    return 2;
  }
  const { stack, result } = compiled;
  process.stdout.write(`Compiling ${stack.source.name} ... `);
  if (!result.ir) {
    out.print('failed');
    for (const d of result.diagnostics.sorted()) out.error(renderDiagnostic(d, out.color) + '\n');
    return 2;
  }
  out.print('ok');
  const policy = prepare(result.ir);
  const files = fixtureFiles(opts);
  if (files.length === 0) {
    out.error(out.fail(`no fixtures: expected tests/*.fmtest.json under ${opts.dir}`));
    return 1;
  }
  const loaded = files.map((path) => ({ path, ...load(path) }));
  const cases = loaded.reduce((n, f) => n + (f.fixture?.cases.length ?? 0), 0);
  out.print(`Running ${plural(loaded.length, 'fixture')}, ${plural(cases, 'case')} ...\n`);

  const total: Outcome = { passed: 0, failed: 0, stop: false };
  for (const f of loaded) {
    out.print(`  ${f.fixture?.fixture ?? basename(f.path, '.fmtest.json')}`);
    if (!f.fixture) {
      for (const p of f.problems) out.print(`    ${out.fail(p)}`);
      total.failed++;
      if (opts.failFast) break;
      continue;
    }
    // A typo would otherwise pass every deny case against the default of no agent at all.
    // (Top-level rules govern agents without a block of their own: then any id is one.)
    const agents = result.ir.agents.map((a) => a.id);
    if (!policy.flat && !agents.includes(f.fixture.agent_id)) {
      out.print(
        `    ${out.fail(`agent_id '${f.fixture.agent_id}' is not an agent of the policy (${agents.join(', ') || 'it has none'})`)}`,
      );
      total.failed++;
      if (opts.failFast) break;
      continue;
    }
    const r = runFixture(f.fixture, policy, out, opts, f.path);
    total.passed += r.passed;
    total.failed += r.failed;
    out.print('');
    if (r.stop) break;
  }
  out.print(`${total.passed} passed, ${total.failed} failed`);
  return total.failed > 0 ? 1 : 0;
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

/** The cases of one fixture run in order against one fresh state. */
function runFixture(fixture: Fixture, policy: ReturnType<typeof prepare>, out: Out, opts: TestOptions, path: string): Outcome {
  const state = emptyState();
  const r: Outcome = { passed: 0, failed: 0, stop: false };
  const updates: { c: FixtureCase; from: FixtureCase['expect']; to: FixtureCase['expect'] }[] = [];
  for (const c of fixture.cases) {
    const nowMs = Date.parse(c.now ?? fixture.now ?? new Date().toISOString());
    state.policy_applied_ms ??= nowMs;
    const { decision, stateDelta } = decide(policy, requestOf(fixture, c), state, { nowMs });
    applyDelta(state, stateDelta);
    const mismatch = compare(c.expect, decision);
    const name = c.name ?? c.tool;
    if (!mismatch) {
      r.passed++;
      out.print(`    ${out.ok(name)}`);
      continue;
    }
    r.failed++;
    out.print(`    ${out.fail(name)}`);
    out.print(`        expected: ${describeExpect(c.expect)}`);
    out.print(`        got:      ${describeDecision(decision)}`);
    out.print(`        diff:     ${mismatch}`);
    if (opts.update) updates.push({ c, from: c.expect, to: actualExpect(c.expect, decision) });
    if (opts.failFast) {
      r.stop = true;
      break;
    }
  }
  if (opts.update && updates.length > 0) {
    out.print(`    updating ${basename(path)}:`);
    for (const u of updates) out.print(`      ${u.c.name ?? u.c.tool}: ${JSON.stringify(u.from)} → ${JSON.stringify(u.to)}`);
    for (const u of updates) u.c.expect = u.to;
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(fixture, null, 2) + '\n');
    renameSync(tmp, path);
  }
  return r;
}

/** Why a decision does not meet the expectation, or undefined when it does. */
function compare(expect: FixtureCase['expect'], d: Decision): string | undefined {
  if (expect.effect !== d.effect) {
    if (d.rule_ref && expect.effect !== 'PERMIT' && d.effect === 'PERMIT')
      return `rule ${d.rule_ref} permitted the call: a rule above the one you expected may match it`;
    if (!d.rule_ref && d.effect === 'DENY' && d.code === 'POLICY_DENY') return 'no rule matched, so the default applied';
    return `effect ${d.effect} instead of ${expect.effect}`;
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

function describeDecision(d: Decision): string {
  return `${d.effect}${d.code ? ` (${d.code})` : ''}${d.rule_ref ? ` (matched rule ${d.rule_ref})` : ' (no rule matched)'}`;
}
