// Decision engine benchmark: decide() in process for 200, 1,000 and 10,000-rule policies with
// typical arguments, and @cedar-policy/cedar-wasm deciding an equivalent policy in the same run.
// Targets (issue: the decision engine): p50 ≤ 2 µs, p99 ≤ 10 µs at 200 rules, nearly flat to
// 10,000; at least 2× faster than Cedar at p50. Usage: node bench/engine.js [--json] [--quick]
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { compile, Source } from '@faramesh/fpl';
import { applyDelta, decide, emptyState, prepare } from '@faramesh/engine';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';

const json = process.argv.includes('--json');
const quick = process.argv.includes('--quick');
const ITER = quick ? 20_000 : 200_000;
const WARMUP = quick ? 5_000 : 50_000;

/** N rules over N/4 tools: permit under a threshold, defer above, an unconditional deny, a glob. */
function fplPolicy(n) {
  const rules = [];
  for (let i = 0; i < n / 4; i++) {
    rules.push(`    permit svc${i}/op if amount < $${100 + i} and currency in ["USD", "EUR"]`);
    rules.push(`    defer  svc${i}/op if amount >= $${100 + i} and to matches "@example\\\\.com$"`);
    rules.push(`    deny   svc${i}/admin`);
    rules.push(`    permit svc${i}/read/*`);
  }
  return `agent "bot" {\n  default deny\n  rules {\n${rules.join('\n')}\n  }\n  rate_limit "svc1/*": 1000000000 per second\n  redact svc1/op args: ["card.number"]\n}\n`;
}

function cedarPolicy(n) {
  const out = [];
  for (let i = 0; i < n / 4; i++) {
    out.push(
      `permit(principal == Agent::"bot", action == Action::"svc${i}/op", resource) when { context.amount < ${100 + i} && ["USD", "EUR"].contains(context.currency) };`,
    );
    out.push(
      `permit(principal == Agent::"bot", action == Action::"svc${i}/op", resource) when { context.amount >= ${100 + i} && context.to like "*@example.com" };`,
    );
    out.push(`forbid(principal == Agent::"bot", action == Action::"svc${i}/admin", resource);`);
    out.push(`permit(principal == Agent::"bot", action == Action::"svc${i}/read", resource);`);
  }
  return out.join('\n');
}

function percentiles(samples) {
  samples.sort((a, b) => a - b);
  const at = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  return { p50: at(0.5), p99: at(0.99) };
}

/**
 * Per-call timings in µs; the cost of reading the clock itself is measured and subtracted. Each
 * measurement stops at ITER calls or BUDGET_MS, whichever comes first (Cedar evaluates every
 * policy on every call, so at 10,000 policies it gets far fewer calls in the same time).
 */
const BUDGET_MS = quick ? 2_000 : 10_000;
function time(fn) {
  const warmEnd = performance.now() + BUDGET_MS / 4;
  for (let i = 0; i < WARMUP && performance.now() < warmEnd; i++) fn(i);
  const clock = [];
  for (let i = 0; i < 10_000; i++) {
    const t0 = process.hrtime.bigint();
    clock.push(Number(process.hrtime.bigint() - t0));
  }
  const overhead = percentiles(clock).p50;
  const samples = [];
  const end = performance.now() + BUDGET_MS;
  for (let i = 0; i < ITER && (i % 256 !== 0 || performance.now() < end); i++) {
    const t0 = process.hrtime.bigint();
    fn(i);
    samples.push(Math.max(0, Number(process.hrtime.bigint() - t0) - overhead) / 1000);
  }
  return { ...percentiles(samples), calls: samples.length };
}

function bench(n) {
  const compiled = compile(new Source('governance.fms', fplPolicy(n)), { env: {} });
  if (!compiled.ir) throw new Error(compiled.diagnostics.items[0].message);
  const policy = prepare(compiled.ir);
  const state = emptyState();
  const now = { nowMs: Date.parse('2026-05-17T10:00:00Z') };
  const tools = Array.from({ length: 64 }, (_, k) => `svc${Math.floor((k * 7919) % (n / 4))}/op`);
  const requests = tools.map((tool, k) => ({
    agent_id: 'bot',
    tool,
    args: { amount: 90 + (k % 40), currency: k % 3 ? 'USD' : 'GBP', to: 'ops@example.com', card: { number: '4242' } },
  }));
  const ours = time((i) => {
    const r = decide(policy, requests[i & 63], state, now);
    if (r.stateDelta.length) applyDelta(state, r.stateDelta);
  });

  cedar.preparsePolicySet(`p${n}`, { staticPolicies: cedarPolicy(n) });
  const calls = requests.map((r) => ({
    principal: { type: 'Agent', id: 'bot' },
    action: { type: 'Action', id: r.tool },
    resource: { type: 'Tool', id: r.tool },
    context: { amount: r.args.amount, currency: r.args.currency, to: r.args.to },
    preparsedPolicySetId: `p${n}`,
    entities: [],
  }));
  const check = cedar.statefulIsAuthorized(calls[0]);
  if (check.type !== 'success') throw new Error(`cedar: ${JSON.stringify(check.errors)}`);
  const theirs = time((i) => cedar.statefulIsAuthorized(calls[i & 63]));
  return { ours, theirs };
}

const sizes = quick ? [200, 10_000] : [200, 1_000, 10_000];
const rows = sizes.map((n) => ({ n, ...bench(n) }));
const r200 = rows[0];
const r10k = rows[rows.length - 1];
const round = (x) => Math.round(x * 1000) / 1000;
const results = {
  engine_decide_p50_us: round(r200.ours.p50),
  engine_decide_p99_us: round(r200.ours.p99),
  engine_decide_10k_p50_us: round(r10k.ours.p50),
  engine_decide_10k_p99_us: round(r10k.ours.p99),
  cedar_decide_p50_us: round(r200.theirs.p50),
  cedar_decide_p99_us: round(r200.theirs.p99),
  engine_vs_cedar_p50_ratio: round(r200.ours.p50 / r200.theirs.p50),
};
const machine = {
  cores: os.cpus().length,
  cpu: os.cpus()[0]?.model ?? 'unknown',
  node: process.version,
  date: new Date().toISOString(),
  iterations: ITER,
};
if (json) console.log(JSON.stringify({ ...results, machine }, null, 2));
else {
  console.log(`Decision engine — ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${machine.date}, ${ITER} calls each\n`);
  console.log(
    `${'rules'.padStart(6)}  ${'ours p50'.padStart(10)} ${'ours p99'.padStart(10)}  ${'cedar p50'.padStart(10)} ${'cedar p99'.padStart(10)}  ratio`,
  );
  for (const r of rows) {
    console.log(
      `${String(r.n).padStart(6)}  ${(round(r.ours.p50) + ' µs').padStart(10)} ${(round(r.ours.p99) + ' µs').padStart(10)}  ${(round(r.theirs.p50) + ' µs').padStart(10)} ${(round(r.theirs.p99) + ' µs').padStart(10)}  ${round(r.ours.p50 / r.theirs.p50)}   (${r.ours.calls} / ${r.theirs.calls} calls)`,
    );
  }
  console.log('\ntargets: p50 ≤ 2 µs, p99 ≤ 10 µs at 200 rules; ratio ≤ 0.5 (at least 2× faster than Cedar)');
}
