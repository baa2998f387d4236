/** The operator commands work under a uid with no passwd entry (containers run with --user <uid>). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chownSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, request } from './daemon-helpers.js';
import { operatorName } from '../src/commands/daemon/operator.js';

test('operatorName falls back when the uid has no login name', () => {
  const none = () => {
    throw new Error('uv_os_get_passwd returned ENOENT');
  };
  const saved = { USER: process.env.USER, LOGNAME: process.env.LOGNAME };
  try {
    delete process.env.USER;
    delete process.env.LOGNAME;
    assert.equal(operatorName(none), `uid:${process.getuid!()}`);
    process.env.USER = 'alice';
    assert.equal(operatorName(none), 'alice');
    assert.equal(
      operatorName(() => ({ username: 'bob' })),
      'bob',
    );
  } finally {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  }
});

const UID = 54_321;
const unmapped = process.getuid?.() === 0 && existsSync('/usr/bin/setpriv') && spawnSync('getent', ['passwd', String(UID)]).status === 2;

test(
  'approve, quiesce and rollback as a uid without a passwd entry',
  { skip: !unmapped && 'needs root, setpriv and an unmapped uid' },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fm-nopw-'));
    writeFileSync(
      join(dir, 'governance.fms'),
      `runtime {\n  wal_dir = "./wal"\n  socket  = "./.faramesh/runtime/agent.sock"\n}\n\nagent "bot" {\n  default deny\n  rules { defer send_email reason "needs ok" }\n}\n`,
    );
    chownSync(dir, UID, UID);
    chownSync(join(dir, 'governance.fms'), UID, UID);
    const env: Record<string, string> = { PATH: process.env.PATH!, HOME: dir, NO_COLOR: '1' };
    const cli = (...args: string[]) =>
      spawnSync(
        'setpriv',
        ['--reuid', String(UID), '--regid', String(UID), '--clear-groups', process.execPath, BIN, ...args, '--dir', dir],
        {
          encoding: 'utf8',
          env,
          timeout: 60_000,
        },
      );
    try {
      assert.equal(cli('apply').status, 0);
      const reply = JSON.parse(
        await request(
          join(dir, '.faramesh', 'runtime', 'agent.sock'),
          JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'govern', params: { agent_id: 'bot', tool: 'send_email', args: {} } }),
        ),
      ) as { result: { defer_token: string } };
      const approved = cli('approvals', 'approve', reply.result.defer_token, '--reason', 'ok');
      assert.equal(approved.status, 0, approved.stderr);
      assert.match(cli('approvals', 'show', reply.result.defer_token).stdout, /approved by uid:54321/);
      const quiesced = cli('agent', 'quiesce', 'bot');
      assert.equal(quiesced.status, 0, quiesced.stderr);
    } finally {
      cli('apply', '--stop');
    }
  },
);
