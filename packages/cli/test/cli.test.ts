import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/faramesh.js', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../../../examples/support-stack', import.meta.url));

function run(args: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function stack(text: string, name = 'governance.fms'): string {
  const dir = mkdtempSync(join(tmpdir(), 'faramesh-cli-'));
  writeFileSync(join(dir, name), text);
  return dir;
}

test('version: `faramesh version` and `--version` name the same version', () => {
  const text = run(['version']);
  assert.equal(text.code, 0);
  const flag = run(['--version']).stdout.trim();
  assert.match(text.stdout, new RegExp(`^faramesh ${flag.replace(/\./g, '\\.')} \\(node v\\d+`));
  const json = JSON.parse(run(['version', '--format', 'json']).stdout) as { version: string; node: string };
  assert.equal(json.version, flag);
  assert.equal(json.node, process.version);
});

test('check: the bundled example is valid (exit 0)', () => {
  const r = run(['check', '--dir', EXAMPLE]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /✓ governance.fms valid/);
});

test('check: a syntax error exits 1 with file:line:col, the source line and a caret', () => {
  const dir = stack(
    'agent "support-bot" {\n  default deny\n  rate_limit "stripe/charge": 5 per minute\n  rate_limit "stripe/refund": 5 minute\n}\n',
  );
  const r = run(['check', '--dir', dir]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /governance\.fms:4:33: error: expected 'per <window>', got 'minute'/);
  assert.match(r.stderr, / > 4 \| {3}rate_limit "stripe\/refund": 5 minute\n\s+\| {33}\^{6}/);
  assert.match(r.stderr, /did you mean 'per minute'\?/);
});

test('check: did-you-mean for a misspelt field', () => {
  const r = run(['check', '--dir', stack('agent "a" {\n  default deny\n  rate_limts "x": 1 per minute\n}\n')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /governance\.fms:3:3: error: agent "a": unknown field 'rate_limts'/);
  assert.match(r.stderr, /= did you mean 'rate_limit'\?/);
});

test('check: several errors in one run', () => {
  const r = run(['check', '--dir', stack('agent "a" {\n  default dney\n  rules {\n    pemit x\n  }\n}\n')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /:2:11: error/);
  assert.match(r.stderr, /:4:5: error/);
  assert.match(r.stderr, /2 errors/);
});

test('check: an unresolvable import exits 2', () => {
  const dir = stack('import "github.com/faramesh/faramesh-registry/policies/faramesh/stripe@1.0.0"\nagent "a" {\n  default deny\n}\n');
  // A registry no request can reach (fetch refuses port 9).
  const r = run(['check', '--dir', dir], { FARAMESH_REGISTRY_ROOT: '', FARAMESH_REGISTRY_URL: 'http://127.0.0.1:9/' });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /import/);
});

test('check: @latest is a policy error (exit 1), not an unreachable import', () => {
  const r = run(['check', '--dir', stack('import "github.com/faramesh/faramesh-registry/policies/faramesh/stripe@latest"\n')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /@latest/);
});

test('--quiet leaves out confirmations and hints, never data, diagnostics or the exit code', () => {
  const dir = stack('agent "a" {\n  default deny\n}\n');
  const loud = run(['check', '--dir', dir]);
  assert.match(loud.stdout, /✓ governance\.fms valid/);
  for (const args of [
    ['check', '-q', '--dir', dir],
    ['--quiet', 'check', '--dir', dir],
  ]) {
    const r = run(args);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, '', '']);
  }
  const json = run(['check', '-q', '--format', 'json', '--dir', dir]);
  assert.equal((JSON.parse(json.stdout) as { valid: boolean }).valid, true);
  const bad = run(['check', '-q', '--dir', stack('agent "a" {\n  default dney\n}\n')]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /'default' expects one of permit, defer, deny/);
  assert.match(bad.stderr, /✗ governance\.fms: 1 error/);
  const compiled = run(['compile', '-q', '--dir', dir]);
  assert.match(compiled.stdout, /"policy_version"/);
  // init writes its file and says nothing else.
  const project = mkdtempSync(join(tmpdir(), 'fm-quiet-init-'));
  const init = run(['-q', 'init', '--dir', project, '--non-interactive', '--offline']);
  assert.deepEqual([init.code, init.stdout], [0, '']);
  assert.ok(existsSync(join(project, 'governance.fms')));
  // A usage error in audit verify is 64, not 2 (which says there is no log).
  for (const flag of ['--from', '--to']) assert.equal(run(['audit', 'verify', flag, 'garbage', '--stack', dir]).code, 64);
});

test('check: warnings pass, but --strict exits 3', () => {
  const dir = stack('agent "a" {\n  rules {\n    permit x\n  }\n}\n');
  const lenient = run(['check', '--dir', dir]);
  assert.equal(lenient.code, 0);
  assert.match(lenient.stderr, /warning: agent "a" has rules but no 'default deny\|permit'/);
  assert.equal(run(['check', '--dir', dir, '--strict']).code, 3);
});

test('check: a policy with no agent and no rule warns that every call is denied (a truncated or wrong file)', () => {
  for (const text of ['', '# nothing yet\n', 'runtime {\n  mode = "enforce"\n}\n']) {
    const dir = stack(text);
    const lenient = run(['check', '--dir', dir]);
    assert.equal(lenient.code, 0);
    assert.match(lenient.stderr, /warning: the policy declares no agent and no rule: every call is denied/);
    assert.equal(run(['check', '--dir', dir, '--strict']).code, 3);
  }
  assert.equal(run(['check', '--dir', stack('permit x\n'), '--strict']).code, 0);
});

test('check --format json: diagnostics and, on success, the policy_version', () => {
  const ok = JSON.parse(run(['check', '--dir', EXAMPLE, '--format', 'json']).stdout) as {
    valid: boolean;
    policy_version: string;
    diagnostics: unknown[];
  };
  assert.equal(ok.valid, true);
  assert.match(ok.policy_version, /^[0-9a-f]{64}$/);
  assert.deepEqual(ok.diagnostics, []);
  const bad = run(['check', '--dir', stack('permit a if x matches "("\n'), '--format', 'json']);
  assert.equal(bad.code, 1);
  const parsed = JSON.parse(bad.stdout) as { valid: boolean; diagnostics: { code: string; line: number; column: number }[] };
  assert.equal(parsed.valid, false);
  assert.deepEqual(
    parsed.diagnostics.map((d) => [d.code, d.line, d.column]),
    [['invalid-regex', 1, 23]],
  );
});

test('check: YAML and JSON stacks', () => {
  const yaml = stack(
    'agent:\n  - id: a\n    default: deny\n    rules:\n      - { effect: permit, tool: "x", condition: "amount < 500" }\n',
    'governance.fms.yaml',
  );
  assert.equal(run(['check', '--dir', yaml]).code, 0);
  const json = stack('{"agent": [{"id": "a", "default": "deny", "rules": [{"effect": "permit", "tool": "x"}]}]}', 'governance.fms.json');
  assert.equal(run(['check', '--dir', json]).code, 0);
});

test('check: a missing policy, and two policies, are clear errors', () => {
  const empty = mkdtempSync(join(tmpdir(), 'faramesh-cli-'));
  assert.match(run(['check', '--dir', empty]).stderr, /no governance\.fms/);
  const two = stack('permit a\n');
  writeFileSync(join(two, 'governance.fms.json'), '{}');
  const r = run(['check', '--dir', two]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /keep one policy file/);
});

test('check: a directory where the policy should be is a clear error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'faramesh-cli-'));
  mkdirSync(join(dir, 'governance.fms'));
  const r = run(['check', '--dir', dir]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /is not a file/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});

test('check: invalid UTF-8 is a diagnostic, not a crash', () => {
  const dir = mkdtempSync(join(tmpdir(), 'faramesh-cli-'));
  writeFileSync(join(dir, 'governance.fms'), Buffer.from([0x70, 0x65, 0x72, 0x6d, 0x69, 0x74, 0x20, 0xff, 0xfe, 0x0a]));
  const r = run(['check', '--dir', dir]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /not valid UTF-8/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});

test('fmt rewrites to canonical form; --check reports without writing', () => {
  const dir = stack('agent "a" {\ndefault deny\n  rules { allow x when a&&b }\n}\n');
  const check = run(['fmt', '--dir', dir, '--check']);
  assert.equal(check.code, 1);
  assert.match(check.stderr, /not formatted/);
  assert.equal(run(['fmt', '--dir', dir]).code, 0);
  assert.equal(
    readFileSync(join(dir, 'governance.fms'), 'utf8'),
    'agent "a" {\n  default deny\n  rules {\n    permit x if a and b\n  }\n}\n',
  );
  assert.equal(run(['fmt', '--dir', dir, '--check']).code, 0);
});

test('fmt --format json: whether the file is formatted and whether fmt changed it', () => {
  const dir = stack('agent "a" {\ndefault deny\n}\n');
  const fmtJson = (...args: string[]) => {
    const r = run(['fmt', '--dir', dir, '--format', 'json', ...args]);
    return [r.code, JSON.parse(r.stdout) as unknown];
  };
  assert.deepEqual(fmtJson('--check'), [1, { file: 'governance.fms', formatted: false, changed: false }]);
  assert.deepEqual(fmtJson(), [0, { file: 'governance.fms', formatted: true, changed: true }]);
  assert.deepEqual(fmtJson('--check'), [0, { file: 'governance.fms', formatted: true, changed: false }]);
  assert.deepEqual(fmtJson(), [0, { file: 'governance.fms', formatted: true, changed: false }]);
});

test('fmt rewrites a symlinked policy through the link and keeps the file mode', () => {
  const real = stack('permit   a\n', 'policy.fms');
  chmodSync(join(real, 'policy.fms'), 0o600);
  const dir = mkdtempSync(join(tmpdir(), 'faramesh-cli-'));
  symlinkSync(join(real, 'policy.fms'), join(dir, 'governance.fms'));
  assert.equal(run(['fmt', '--dir', dir]).code, 0);
  assert.ok(lstatSync(join(dir, 'governance.fms')).isSymbolicLink(), 'the link is kept');
  assert.equal(readFileSync(join(real, 'policy.fms'), 'utf8'), 'permit a\n');
  assert.equal(statSync(join(real, 'policy.fms')).mode & 0o777, 0o600);
});

test('fmt on a policy it cannot rewrite (locked by immutable_config) says so, exits 1 and leaves no temporary file', (t) => {
  const text = 'agent "a" {\n default deny\n}\n';
  const dir = stack(text);
  const file = join(dir, 'governance.fms');
  // What apply does with runtime { immutable_config = true } on Linux; not every filesystem or user can.
  if (spawnSync('chattr', ['+i', file]).status !== 0) return t.skip('chattr +i is not available here');
  try {
    const r = run(['fmt', '--dir', dir]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /✗ governance\.fms could not be rewritten .*nothing was changed/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(readFileSync(file, 'utf8'), text);
    assert.deepEqual(readdirSync(dir), ['governance.fms']);
  } finally {
    spawnSync('chattr', ['-i', file]);
  }
});

test('fmt refuses a file with syntax errors and leaves it untouched', () => {
  const text = 'agent "a" {\n  rules { permit }\n';
  const dir = stack(text);
  assert.equal(run(['fmt', '--dir', dir]).code, 1);
  assert.equal(readFileSync(join(dir, 'governance.fms'), 'utf8'), text);
});

test('compile prints the canonical IR with its policy_version', () => {
  const r = run(['compile', '--dir', EXAMPLE]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { policy_version: string; policy: { agents: { id: string; rules: { ref: string }[] }[] } };
  assert.equal(out.policy.agents[0]!.id, 'support-bot');
  assert.equal(out.policy.agents[0]!.rules[0]!.ref, 'governance.fms:14');
  const json = JSON.parse(run(['check', '--dir', EXAMPLE, '--format', 'json']).stdout) as { policy_version: string };
  assert.equal(out.policy_version, json.policy_version);
  // The IR is JSON under either --format; with --out, json says what was written.
  for (const format of ['json', 'text']) assert.equal(run(['compile', '--dir', EXAMPLE, '--format', format]).stdout, r.stdout);
  const file = join(mkdtempSync(join(tmpdir(), 'faramesh-cli-')), 'ir.json');
  const wrote = run(['compile', '--dir', EXAMPLE, '--format', 'json', '--out', file]);
  assert.deepEqual(JSON.parse(wrote.stdout), { policy_version: out.policy_version, out: file });
  assert.equal(readFileSync(file, 'utf8'), r.stdout);
});

test('unknown commands and flags exit non-zero with usage, not a stack trace', () => {
  const r = run(['chek']);
  assert.notEqual(r.code, 0);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.notEqual(run(['check', '--bogus']).code, 0);
});

test('destroy on a directory holding no applied stack says so and exits 1', () => {
  const empty = mkdtempSync(join(tmpdir(), 'fm-no-stack-'));
  for (const dir of [empty, join(empty, 'missing')]) {
    const r = run(['destroy', '--yes', '--dir', dir]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /holds no applied stack \(no \.faramesh\/\): nothing to destroy/);
    assert.doesNotMatch(r.stdout, /destroyed/);
  }
});

test('usage: a parse error in a command group (audit, approvals, agent) exits 64, not 1', () => {
  const dir = stack('agent "a" {\n  default deny\n}\n');
  // exit 1 from audit verify means a problem in the log: a misspelled flag must not say that.
  assert.equal(run(['audit', 'verify', '--form', '2026-01-01', '--stack', dir]).code, 64);
  assert.equal(run(['audit', 'verify', 'extra', '--stack', dir]).code, 64);
  assert.equal(run(['audit', 'tail', '--effect', 'allow', '--no-follow', '--stack', dir]).code, 64);
  assert.equal(run(['approvals', 'list', '--bogus', '--dir', dir]).code, 64);
  assert.equal(run(['approvals', 'list', '--status', 'foo', '--dir', dir]).code, 64);
  assert.equal(run(['agent', 'list', '--bogus', '--dir', dir]).code, 64);
  assert.equal(run(['audit', 'wal', 'inspect', '--bogus']).code, 64);
  // Help is still exit 0.
  assert.equal(run(['audit', 'verify', '--help']).code, 0);
});
