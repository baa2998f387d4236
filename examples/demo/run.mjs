// `npm run demo`: the whole loop on the bundled stack, in a scratch copy. Check and test the policy,
// apply it (the daemon starts), run a governed agent through the launcher (permit, deny, defer), approve
// the deferred call as the operator, watch the agent's retry run once, stop the daemon, verify the log.
// Exits non-zero if any step does not behave as documented.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const CLI = join(here, '..', '..', 'packages', 'cli', 'bin', 'faramesh.js');
const home = mkdtempSync(join(tmpdir(), 'faramesh-demo-'));
const stack = join(home, 'support-stack');
cpSync(join(here, '..', 'support-stack'), stack, { recursive: true });
// A scratch HOME keeps the daemon's default socket (~/.faramesh/runtime/faramesh.sock) to this demo.
const env = { ...process.env, HOME: home };

function faramesh(...args) {
  console.log(`\n$ faramesh ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: stack, env, encoding: 'utf8' });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  return r;
}
function must(r, what) {
  if (r.status !== 0) {
    console.error(`\n✗ demo failed at: ${what}`);
    faramesh('apply', '--stop');
    process.exit(1);
  }
  return r;
}

let ok = false;
try {
  must(faramesh('check'), 'check');
  must(faramesh('test'), 'policy tests');
  must(faramesh('apply'), 'apply');

  console.log('\n$ .faramesh/bin/agent -- node agent.mjs');
  const agent = spawn(join(stack, '.faramesh', 'bin', 'agent'), ['--', process.execPath, join(here, 'agent.mjs')], {
    cwd: stack,
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const agentDone = new Promise((resolve) => agent.once('exit', resolve));

  // The operator: wait for the deferred refund to reach the queue, then approve it.
  let approval;
  for (let i = 0; i < 150 && !approval; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const r = spawnSync(process.execPath, [CLI, 'approvals', 'list', '--json'], { cwd: stack, env, encoding: 'utf8' });
    approval = r.status === 0 ? JSON.parse(r.stdout).approvals[0] : undefined;
  }
  if (!approval) throw new Error('the deferred call never reached the approval queue');
  faramesh('approvals', 'list');
  must(faramesh('approvals', 'approve', approval.id, '--reason', 'customer verified by phone'), 'approve');
  if ((await agentDone) !== 0) throw new Error('the agent did not see permit, deny, defer → approve → permit once');

  must(faramesh('status'), 'status');
  must(faramesh('apply', '--stop'), 'stop');
  must(faramesh('audit', 'verify'), 'audit verify');
  ok = true;
} catch (e) {
  console.error(`\n✗ demo failed: ${e.message}`);
  spawnSync(process.execPath, [CLI, 'apply', '--stop'], { cwd: stack, env });
} finally {
  rmSync(home, { recursive: true, force: true });
}
console.log(ok ? '\n✓ demo complete: permit, deny, defer → approve → permit once, and the audit log verifies' : '');
process.exit(ok ? 0 : 1);
