import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync } from 'node:fs';
import { makeStack } from './daemon-helpers.js';

const BIN = new URL('../../bin/faramesh.js', import.meta.url).pathname;
// Another user: root runs the CLI as an unprivileged uid, for whom .faramesh/ (0700) is closed.
const usable = process.getuid?.() === 0 && existsSync('/usr/bin/setpriv');

test(
  'status, apply --stop and destroy by a user who cannot see .faramesh/ never say no daemon runs',
  { skip: !usable && 'needs root and setpriv' },
  () => {
    const s = makeStack();
    const other = (...args: string[]) => {
      const r = spawnSync(
        'setpriv',
        ['--reuid', '54323', '--regid', '54323', '--clear-groups', process.execPath, BIN, ...args, '--dir', s.dir],
        { encoding: 'utf8', env: { PATH: process.env.PATH!, HOME: '/tmp', NO_COLOR: '1' }, timeout: 60_000 },
      );
      return { code: r.status, out: r.stdout + r.stderr };
    };
    try {
      assert.equal(s.cli('apply').code, 0);
      chmodSync(s.dir, 0o755);
      const status = other('status');
      assert.notEqual(status.code, 1, status.out);
      assert.doesNotMatch(status.out, /STOPPED/);
      assert.match(status.out, /cannot be reached by this user/);
      const explain = other('explain', 'agent', 'bot');
      assert.doesNotMatch(explain.out, /no policy has been applied/);
      assert.match(explain.out, /cannot be reached by this user/);
      const stop = other('apply', '--stop');
      assert.equal(stop.code, 1, stop.out);
      assert.doesNotMatch(stop.out, /no daemon is running/);
      const destroy = other('destroy', '--yes');
      assert.equal(destroy.code, 1, destroy.out);
      assert.doesNotMatch(destroy.out, /removed|destroyed|\n\s+at /);
      assert.equal(s.cli('status', '-q').stdout.trim(), '0', 'the daemon still runs');
    } finally {
      s.stop();
    }
  },
);
