/**
 * Two hot swaps at once (apply and rollback, or two rollbacks) run one after the other: the policy
 * in force is the one the last swap put there, and the compiled policy on disk (what the next start
 * loads) is that same one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appliedStack, request } from './daemon-helpers.js';

const policy = (x: 'permit' | 'deny') => `runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
}

agent "sup" {
  default deny
  rules {
    permit delegate/worker
  }
  delegate { to = ["worker"] }
}

agent "worker" {
  default deny
  rules {
    ${x} x
  }
}
`;

async function operator(
  dir: string,
  method: string,
  params?: object,
): Promise<{
  ok: boolean;
  result?: { policy_version?: string; versions?: { version: string }[] };
  error?: { code: string; message: string };
}> {
  return JSON.parse(await request(join(dir, '.faramesh', 'runtime', 'operator.sock'), JSON.stringify({ method, params })));
}

/** Two versions applied, v1 permitting `x` and v2 denying it. */
function twoVersions() {
  const s = appliedStack(policy('permit'));
  writeFileSync(join(s.dir, 'governance.fms'), policy('deny'));
  assert.equal(s.cli('apply').code, 0);
  return s;
}

test('two rollbacks at once: the one answered last is the policy in force, and the compiled policy on disk is that one', async () => {
  const s = twoVersions();
  try {
    const { result } = await operator(s.dir, 'policy.history');
    const [a, b] = result!.versions!.map((v) => v.version);
    for (let i = 0; i < 60; i++) {
      const replies = await Promise.all([
        operator(s.dir, 'rollback', { to: a, by: 'one' }),
        operator(s.dir, 'rollback', { to: b, by: 'two' }),
      ]);
      for (const r of replies) assert.equal(r.ok, true, JSON.stringify(r));
      const running = String((await operator(s.dir, 'status')).result?.policy_version);
      const onDisk = JSON.parse(readFileSync(join(s.dir, '.faramesh', 'governance.compiled.json'), 'utf8')).policy_version;
      assert.equal(
        onDisk,
        running,
        `round ${i}: the daemon enforces ${running.slice(0, 8)}, its next start would load ${onDisk.slice(0, 8)}`,
      );
      // The second rollback asked for b: whatever it answered, b is what is in force after both.
      assert.equal(running, b, `round ${i}: ${JSON.stringify(replies.map((r) => r.result))}`);
    }
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});
