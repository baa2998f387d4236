/**
 * bubblewrap builds the sandbox, so it runs outside it with the launcher's rights. apply finds it on
 * PATH: an entry there the agent can write (an activated venv in the workspace, the node_modules/.bin
 * that npx and npm scripts put first) must not make a program the agent planted the one every launch
 * runs unconfined.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, makeStack } from './daemon-helpers.js';

const policy = (extra = '') => `runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
  os_tier = true
${extra}}

agent "a" {
  default deny
}
`;

test(
  'apply refuses a bubblewrap found on PATH where sandboxed agents can write, and no launch runs it',
  { skip: process.platform !== 'linux' ? 'Linux only' : false },
  () => {
    const system = spawnSync('sh', ['-c', 'command -v bwrap'], { encoding: 'utf8' }).stdout.trim();
    const s = makeStack(policy());
    try {
      assert.equal(s.cli('apply').code, 0);
      // What a sandboxed agent can leave in its workspace: a "bwrap" that notes it ran (outside the
      // workspace, beyond the agent's reach) and then passes on to the real one.
      const marker = join(mkdtempSync(join(tmpdir(), 'fm-planted-')), 'ran');
      const bin = join(s.dir, 'venv', 'bin');
      mkdirSync(bin, { recursive: true });
      writeFileSync(join(bin, 'bwrap'), `#!/bin/sh\necho ran >> '${marker}'\nexec '${system}' "$@"\n`);
      chmodSync(join(bin, 'bwrap'), 0o755);

      // The operator applies again from the activated venv.
      writeFileSync(join(s.dir, 'governance.fms'), policy('  agent_env = ["MODEL_KEY"]\n'));
      const env = { ...process.env, NO_COLOR: '1', HOME: s.dir, PATH: `${bin}:${process.env.PATH}` };
      const again = spawnSync(process.execPath, [BIN, 'apply', '--dir', s.dir], { encoding: 'utf8', env });
      assert.match(again.stdout + again.stderr, /bubblewrap was found at .*venv\/bin\/bwrap, which sandboxed agents can write/);
      assert.doesNotMatch(readFileSync(join(s.dir, '.faramesh', 'runtime', 'sandbox.plan'), 'utf8'), /venv/);

      const r = spawnSync(join(s.dir, '.faramesh', 'bin', 'agent'), ['--', 'true'], { encoding: 'utf8', cwd: s.dir, env });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(existsSync(marker), false, 'a bubblewrap the agent planted ran outside the sandbox');
    } finally {
      s.cli('apply', '--stop');
    }
  },
);
