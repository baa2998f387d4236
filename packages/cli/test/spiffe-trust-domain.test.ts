/**
 * A SPIFFE identity whose trust_domain no SVID can carry (written as a URI, in capitals) is refused
 * at apply with the reason: started on it, the daemon would deny every agent while apply said ✓.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeSpire } from './fake-spire.js';
import { makeStack } from './daemon-helpers.js';

const policy = (socket: string, trustDomain: string) => `runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
}

identity "spire" {
  type         = "spiffe"
  socket       = "unix://${socket}"
  trust_domain = "${trustDomain}"
}

agent "ops" {
  default deny
  rules {
    permit plain
  }
}
`;

test('a trust_domain that no SPIFFE id can match is refused at apply, naming it', async () => {
  const spire = await FakeSpire.start(mkdtempSync(join(tmpdir(), 'fm-spire-td-')));
  await spire.setSvids(['spiffe://example.org/agents/ops']);
  try {
    for (const bad of ['spiffe://example.org', 'Example.org', 'example.org/agents']) {
      const s = makeStack(policy(spire.socket, bad));
      try {
        const r = await s.cliAsync('apply');
        assert.notEqual(r.code, 0, `${bad}: ${r.stdout}${r.stderr}`);
        assert.match(r.stdout + r.stderr, /trust_domain '.*' is not a SPIFFE trust domain name/);
      } finally {
        await s.cliAsync('apply', '--stop');
        s.stop();
      }
    }
    // The name as SVIDs spell it still attests the agent.
    const s = makeStack(policy(spire.socket, 'example.org'));
    try {
      const r = await s.cliAsync('apply');
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal((await s.govern({ agent_id: 'ops', tool_id: 'plain', args: {} })).effect, 'PERMIT');
    } finally {
      await s.cliAsync('apply', '--stop');
      s.stop();
    }
  } finally {
    await spire.close();
  }
});
