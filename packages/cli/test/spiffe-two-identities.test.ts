/** An apply naming two SPIFFE identity providers is refused with the reason, not as an internal error. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeSpire } from './fake-spire.js';
import { makeStack } from './daemon-helpers.js';

test('a hot swap to two spiffe identities is refused naming them; the daemon keeps serving', async () => {
  const spire = await FakeSpire.start(mkdtempSync(join(tmpdir(), 'fm-spire-two-')));
  await spire.setSvids(['spiffe://example.org/agents/ops']);
  const identity = (name: string) => `identity "${name}" {
  type         = "spiffe"
  socket       = "unix://${spire.socket}"
  trust_domain = "example.org"
}
`;
  const policy = (ids: string) => `runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
}

${ids}
agent "ops" {
  default deny
  rules {
    permit plain
  }
}
`;
  const s = makeStack(policy(identity('a')));
  try {
    assert.equal((await s.cliAsync('apply')).code, 0);
    writeFileSync(join(s.dir, 'governance.fms'), policy(identity('a') + identity('b')));
    const r = await s.cliAsync('apply');
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /only one spiffe identity per stack: a, b/);
    assert.doesNotMatch(r.stdout + r.stderr, /internal error/);
    assert.equal((await s.govern({ agent_id: 'ops', tool_id: 'plain', args: {} })).effect, 'PERMIT');
  } finally {
    await s.cliAsync('apply', '--stop');
    await spire.close();
    s.stop();
  }
});
