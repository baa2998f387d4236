/**
 * A hot swap that cannot open the sandbox mirror of an agent it adds is refused whole: the daemon
 * keeps deciding under the policy it had, as apply says, rather than running the new one while
 * apply reports it refused (and puts the old policy back on disk for the next start).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentSocketMirror, stackPaths } from '@faramesh/daemon';
import { request, withStack } from './daemon-helpers.js';

const policy = (bot: 'permit' | 'deny', helper: boolean) => `runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
  os_tier = true
}

agent "bot" {
  default deny
  rules { ${bot} x }
}
${helper ? '\nagent "helper" {\n  default deny\n  rules { permit y }\n}\n' : ''}`;

test('a swap whose new agent mirror cannot be opened changes nothing; once it can, the mirror serves that agent', async () => {
  await withStack(
    async (s) => {
      assert.equal(s.cli('apply').code, 0);
      const before = String(JSON.parse(s.cli('status', '--format', 'json').stdout).daemon.policy_version);
      const mirror = agentSocketMirror(stackPaths(s.dir), 'helper');
      // Something in the mirror's place that cannot be removed: a directory with a file in it.
      mkdirSync(join(mirror, 'blocker'), { recursive: true });
      try {
        writeFileSync(join(s.dir, 'governance.fms'), policy('permit', true));
        const refused = s.cli('apply');
        assert.equal(refused.code, 1, refused.stdout);
        assert.equal((await s.govern({ agent_id: 'bot', tool_id: 'x', args: {} })).effect, 'DENY', 'the refused policy does not decide');
        const status = JSON.parse(s.cli('status', '--format', 'json').stdout) as { daemon: { policy_version: string } };
        assert.equal(status.daemon.policy_version, before);
        const onDisk = JSON.parse(readFileSync(join(s.dir, '.faramesh', 'governance.compiled.json'), 'utf8')).policy_version;
        assert.equal(onDisk, before);
        assert.match(refused.stderr, /hot-swap refused: the sandbox mirror of the agent socket could not be opened/);
      } finally {
        rmSync(mirror, { recursive: true, force: true });
      }
      const applied = s.cli('apply');
      assert.equal(applied.code, 0, applied.stderr);
      assert.equal((await s.govern({ agent_id: 'bot', tool_id: 'x', args: {} })).effect, 'PERMIT');
      const line = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'govern', params: { agent_id: 'helper', tool_id: 'y', args: {} } });
      const reply = await request(mirror, line);
      assert.equal(JSON.parse(reply).result?.effect, 'PERMIT', reply);
      // The agent removed: its mirror goes.
      writeFileSync(join(s.dir, 'governance.fms'), policy('permit', false));
      assert.equal(s.cli('apply').code, 0);
      assert.equal(existsSync(mirror), false);
    },
    policy('deny', false),
  );
});
