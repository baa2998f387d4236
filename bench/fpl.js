// FPL toolchain benchmark: check + compile (parse, lower, rule-order analysis, canonical IR hash).
// Targets (issue: the FPL toolchain): a generated 10,000-rule policy in under 1 s; each cookbook
// example in under 20 ms. Usage: node bench/fpl.js [--json] [--quick]
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { compile, Source } from '@faramesh/fpl';

const json = process.argv.includes('--json');
const quick = process.argv.includes('--quick');

function generatePolicy(rules) {
  const lines = ['runtime {\n  mode = "enforce"\n}\n'];
  const agents = 10;
  const perAgent = rules / agents;
  for (let a = 0; a < agents; a++) {
    lines.push(`agent "agent-${a}" {\n  default deny\n  rules {`);
    for (let i = 0; i < perAgent; i++) {
      const n = a * perAgent + i;
      const tool = `svc${n % 97}/op_${n}`;
      switch (n % 4) {
        case 0:
          lines.push(`    permit ${tool} if amount < $${n} and currency in ["USD", "EUR"]`);
          break;
        case 1:
          lines.push(`    defer  ${tool} if args.to matches "@example\\\\.com$" reason "check ${n}"`);
          break;
        case 2:
          lines.push(`    deny   ${tool} if principal.groups contains "contractors" or time.hour < 8`);
          break;
        default:
          lines.push(`    permit ${tool}`);
      }
    }
    lines.push('  }', `  rate_limit "svc${a}/*": 100 per minute`, '  budget daily {\n    max $1000\n    warn_at 0.8\n  }', '}\n');
  }
  return lines.join('\n');
}

function measure(text, iterations) {
  const source = new Source('governance.fms', text);
  const first = compile(source, { env: {} });
  if (first.diagnostics.errorCount > 0) throw new Error(`benchmark policy does not compile: ${first.diagnostics.items[0].message}`);
  for (let i = 0; i < Math.min(3, iterations); i++) compile(source, { env: {} }); // warm-up
  const times = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    compile(new Source('governance.fms', text), { env: {} });
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length / 2)], max: times[times.length - 1], rules: countRules(first.ir) };
}

function countRules(ir) {
  return ir.rules.length + ir.agents.reduce((n, a) => n + a.rules.length, 0);
}

const results = {};
const big = measure(generatePolicy(10_000), quick ? 3 : 15);
results.fpl_compile_10k_rules_ms = round(big.p50);
results.fpl_compile_10k_rules_max_ms = round(big.max);

// Glob-heavy shapes stress the rule-order analysis (shadowing and strict-deny checks).
function generateGlobPolicy(rules, strict) {
  const lines = ['agent "globs" {', '  default deny', '  rules {'];
  for (let i = 0; i < rules; i++) {
    if (strict && i % 2 === 0) lines.push(`    deny! svc${i}/admin/*`);
    else lines.push(`    permit svc${i}/* if amount < ${i}`);
  }
  lines.push('  }', '}');
  return lines.join('\n') + '\n';
}
const globs = measure(generateGlobPolicy(10_000, false), quick ? 3 : 10);
results.fpl_compile_10k_glob_rules_ms = round(globs.p50);
const strictGlobs = measure(generateGlobPolicy(10_000, true), quick ? 3 : 10);
results.fpl_compile_10k_strict_glob_rules_ms = round(strictGlobs.p50);

// One namespace: 5,000 `deny! github/delete_N*` beside 5,000 `permit github/get_N` (each permit is
// checked against the deny!s whose literal start could cover it, not every one under `github`).
function generateNamespacePolicy(rules) {
  const lines = ['agent "ns" {', '  default deny', '  rules {'];
  for (let i = 0; i < rules / 2; i++) lines.push(`    deny! github/delete_${i}*`);
  for (let i = 0; i < rules / 2; i++) lines.push(`    permit github/get_${i}`);
  lines.push('  }', '}');
  return lines.join('\n') + '\n';
}
results.fpl_compile_10k_one_namespace_ms = round(measure(generateNamespacePolicy(10_000), quick ? 3 : 10).p50);
// Glob-first on both sides (`deny! */dN`, `permit **/pN`): told apart by how their patterns end.
function generateGlobFirstPolicy(rules) {
  const lines = ['agent "gf" {', '  default deny', '  rules {'];
  for (let i = 0; i < rules / 2; i++) lines.push(`    deny! */d${i}`);
  for (let i = 0; i < rules / 2; i++) lines.push(`    permit **/p${i}`);
  lines.push('  }', '}');
  return lines.join('\n') + '\n';
}
results.fpl_compile_10k_glob_first_ms = round(measure(generateGlobFirstPolicy(10_000), quick ? 3 : 10).p50);

const docs = new URL('../packages/fpl/test/fixtures/docs/', import.meta.url);
const cookbook = readdirSync(docs).filter((f) => /^fpl-L(15|486|513|548|570|598)\.fms$/.test(f));
const perExample = {};
// Imports are dropped: no registry mirror here, and resolving one is file I/O, not the toolchain.
for (const f of cookbook) {
  const text = readFileSync(new URL(f, docs), 'utf8').replace(/^import .*$/gm, '');
  perExample[f] = round(measure(text, quick ? 20 : 200).p50);
}
results.fpl_cookbook_max_p50_ms = Math.max(...Object.values(perExample));

const machine = { cores: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version, date: new Date().toISOString() };
if (json) {
  console.log(JSON.stringify({ ...results, cookbook: perExample, machine }, null, 2));
} else {
  console.log(`FPL toolchain — ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${machine.date}\n`);
  console.log(row('check + compile, 10,000 rules (p50)', `${results.fpl_compile_10k_rules_ms} ms`, '< 1000 ms'));
  console.log(row('check + compile, 10,000 rules (max)', `${results.fpl_compile_10k_rules_max_ms} ms`, ''));
  console.log(row('10,000 glob rules, one agent (p50)', `${results.fpl_compile_10k_glob_rules_ms} ms`, '< 1000 ms'));
  console.log(row('5,000 deny! + 5,000 glob permits (p50)', `${results.fpl_compile_10k_strict_glob_rules_ms} ms`, '< 1000 ms'));
  console.log(row('5,000 deny! + 5,000 permits, one namespace', `${results.fpl_compile_10k_one_namespace_ms} ms`, '< 1000 ms'));
  console.log(row('5,000 deny! */dN + 5,000 permit **/pN', `${results.fpl_compile_10k_glob_first_ms} ms`, '< 1000 ms'));
  for (const [f, ms] of Object.entries(perExample)) console.log(row(`cookbook ${f} (p50)`, `${ms} ms`, '< 20 ms'));
}

function round(ms) {
  return Math.round(ms * 1000) / 1000;
}
function row(name, value, target) {
  return `${name.padEnd(44)} ${value.padStart(12)}   ${target}`;
}
