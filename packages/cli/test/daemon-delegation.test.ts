import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readRecords } from '@faramesh/audit';
import { makeStack } from './daemon-helpers.js';

const policy = `runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
}

agent "orchestrator" {
  default deny
  rules {
    permit delegate/researcher
    permit delegate/writer
    permit delegate/intern
  }
  delegate {
    to      = ["researcher"]
    ttl     = "10m"
    ceiling = "permit"
  }
  delegate {
    to      = ["writer"]
    ceiling = "defer"
  }
}

agent "researcher" {
  default deny
  rules {
    permit web/fetch
    permit delegate/writer
  }
  delegate {
    to = ["writer"]
  }
}

agent "writer" {
  default deny
  rules {
    permit docs/write
  }
}

agent "intern" {
  default deny
  rules {
    permit docs/write
  }
}
`;

test('delegation: a permitted delegate/<agent> call under a grant mints a token; the worker proves its chain with it, capped at the ceiling and recorded; forged, stolen or stated chains are refused', async () => {
  const s = makeStack(policy);
  try {
    assert.equal(s.cli('apply').code, 0);
    const delegated = await s.govern({ agent_id: 'orchestrator', tool: 'delegate', operation: 'researcher', args: {} });
    assert.equal(delegated.effect, 'PERMIT');
    const token = String(delegated.delegation_token);
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    // The worker calls with its token: decided on its own rules, the chain recorded.
    const fetch = await s.govern({ agent_id: 'researcher', tool: 'web', operation: 'fetch', args: {}, delegation_token: token });
    assert.equal(fetch.effect, 'PERMIT');
    // A second hop: the researcher delegates to the writer, whose chain now has both.
    const onward = await s.govern({ agent_id: 'researcher', tool: 'delegate', operation: 'writer', args: {}, delegation_token: token });
    assert.equal(onward.effect, 'PERMIT');
    const write = await s.govern({
      agent_id: 'writer',
      tool: 'docs',
      operation: 'write',
      args: {},
      delegation_token: String(onward.delegation_token),
    });
    assert.equal(write.effect, 'PERMIT');
    // The orchestrator's grant to the writer caps its effect at defer.
    const capped = await s.govern({ agent_id: 'orchestrator', tool: 'delegate', operation: 'writer', args: {} });
    const deferred = await s.govern({
      agent_id: 'writer',
      tool: 'docs',
      operation: 'write',
      args: {},
      delegation_token: String(capped.delegation_token),
    });
    assert.equal(deferred.effect, 'DEFER');

    // A delegation the policy permits as a call but grants no delegate block for is denied, with no token.
    const ungranted = await s.govern({ agent_id: 'orchestrator', tool: 'delegate', operation: 'intern', args: {} });
    assert.equal(ungranted.effect, 'DENY');
    assert.match(ungranted.structured_denial!.human_message, /has no delegate block naming 'intern'/);
    assert.equal(ungranted.delegation_token, undefined);

    // Someone else's token, a tampered one, garbage: IDENTITY_UNVERIFIED.
    const [head, body, sig] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as { sub: string };
    const forged = `${head}.${Buffer.from(JSON.stringify({ ...claims, sub: 'intern' })).toString('base64url')}.${sig}`;
    for (const [agent, t, why] of [
      ['writer', token, /issued to "researcher", not agent writer/],
      ['intern', forged, /did not verify: signature verification failed/],
      ['researcher', 'garbage', /did not verify/],
    ] as const) {
      const r = await s.govern({ agent_id: agent, tool: 'docs', operation: 'write', args: {}, delegation_token: t });
      assert.equal(r.reason_code, 'IDENTITY_UNVERIFIED', `${agent}: ${JSON.stringify(r)}`);
      assert.match(r.structured_denial!.human_message, why);
    }
    assert.equal(s.cli('apply', '--stop').code, 0);
    const chains = readRecords(join(s.dir, 'wal'))
      .map((r) => r.record)
      .filter((r) => r.type === 'decision' && r.delegation_chain)
      .map((r) => [r.agent_id, r.tool, r.delegation_chain]);
    assert.deepEqual(chains, [
      ['researcher', 'web/fetch', ['orchestrator']],
      ['researcher', 'delegate/writer', ['orchestrator']],
      ['writer', 'docs/write', ['orchestrator', 'researcher']],
      ['writer', 'docs/write', ['orchestrator']],
    ]);
    assert.equal(s.cli('audit', 'verify').code, 0);
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});

test('quiescing an agent stops the work it delegated: its workers, and theirs, are denied until it is resumed', async () => {
  const s = makeStack(policy);
  try {
    assert.equal(s.cli('apply').code, 0);
    const token = String(
      (await s.govern({ agent_id: 'orchestrator', tool: 'delegate', operation: 'researcher', args: {} })).delegation_token,
    );
    const onward = String(
      (await s.govern({ agent_id: 'researcher', tool: 'delegate', operation: 'writer', args: {}, delegation_token: token }))
        .delegation_token,
    );
    const fetch = () => s.govern({ agent_id: 'researcher', tool: 'web', operation: 'fetch', args: {}, delegation_token: token });
    const write = () => s.govern({ agent_id: 'writer', tool: 'docs', operation: 'write', args: {}, delegation_token: onward });
    assert.equal((await fetch()).effect, 'PERMIT');
    assert.equal(s.cli('agent', 'quiesce', 'orchestrator', '--reason', 'incident 9').code, 0);
    for (const r of [await fetch(), await write()]) {
      assert.deepEqual([r.effect, r.reason_code], ['DENY', 'POLICY_DENY'], JSON.stringify(r));
      assert.match(r.structured_denial!.human_message, /agent orchestrator, which delegated this work, is quiesced by the operator/);
    }
    // Handing the work on is stopped too, and the researcher's own work, under no one's token, goes on.
    const again = await s.govern({ agent_id: 'researcher', tool: 'delegate', operation: 'writer', args: {}, delegation_token: token });
    assert.deepEqual([again.effect, again.delegation_token], ['DENY', undefined]);
    assert.equal((await s.govern({ agent_id: 'researcher', tool: 'web', operation: 'fetch', args: {} })).effect, 'PERMIT');
    assert.equal(s.cli('agent', 'resume', 'orchestrator').code, 0);
    assert.equal((await write()).effect, 'PERMIT');
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});
