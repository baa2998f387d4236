/**
 * The sandboxed launcher runs outside the sandbox, with its caller's rights: nothing it runs may be
 * found through a PATH entry the agent can write. An activated venv in the workspace (or the
 * node_modules/.bin that npm scripts put first) is such an entry: an `env` or `sed` the agent left
 * there would run unconfined at the next launch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeStack } from './daemon-helpers.js';

const policy = `runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
  os_tier = true
}

agent "a" {
  default deny
}
`;

test(
  "the sandboxed launcher runs no program found through PATH, where the agent's workspace may lead",
  { skip: process.platform !== 'linux' ? 'Linux only' : false },
  () => {
    const s = makeStack(policy);
    try {
      const applied = s.cli('apply');
      assert.equal(applied.code, 0, applied.stderr + applied.stdout);
      // What a sandboxed agent can leave in its workspace: programs named like the tools a shell
      // script looks up, which note where they ran (outside the workspace, beyond the agent's reach).
      const marker = join(mkdtempSync(join(tmpdir(), 'fm-planted-')), 'ran');
      const bin = join(s.dir, 'venv', 'bin');
      mkdirSync(bin, { recursive: true });
      for (const name of ['env', 'sed']) {
        writeFileSync(join(bin, name), `#!/bin/sh\necho ${name} >> '${marker}'\nexec /usr/bin/${name} "$@"\n`);
        chmodSync(join(bin, name), 0o755);
      }
      const r = spawnSync(join(s.dir, '.faramesh', 'bin', 'agent'), ['--', 'sh', '-c', 'echo "secret=${AWS_SECRET_ACCESS_KEY:-unset}"'], {
        encoding: 'utf8',
        cwd: s.dir,
        env: { PATH: `${bin}:${process.env.PATH}`, AWS_SECRET_ACCESS_KEY: 'aws-secret', FARAMESH_QUIET: '1' },
      });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(existsSync(marker), false, 'a program the agent planted ran outside the sandbox');
      // The helper still strips ambient credentials.
      assert.match(r.stdout, /secret=unset/);
    } finally {
      s.cli('apply', '--stop');
    }
  },
);
