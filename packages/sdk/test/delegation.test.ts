/**
 * Delegation through the SDK, against a real daemon: a supervisor's permitted `delegate/<worker>`
 * tool reads the worker's token with `delegationToken()`; the worker's Governor sends it
 * (`delegationToken`, or FARAMESH_DELEGATION_TOKEN), so its calls carry the chain and the grant's
 * scope binds them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { delegationToken, governedTools, ToolDeniedError } from '../src/index.js';
import { startDaemon } from './daemon.js';

const POLICY = `runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
}

agent "sup" {
  default deny
  rules {
    permit delegate/worker
  }
  delegate {
    to    = ["worker"]
    scope = ["docs/read"]
  }
}

agent "worker" {
  default deny
  rules {
    permit docs/read
    permit web/fetch
  }
}
`;

test('a delegate tool hands the worker its token; the worker proves its chain with it, and the grant scope binds it', async () => {
  const d = startDaemon(POLICY);
  try {
    const env = { FARAMESH_SOCKET: d.socket };
    let handed: string | undefined;
    const sup = governedTools(
      { 'delegate/worker': async (_a: object) => ((handed = delegationToken()), 'started') },
      { agentId: 'sup', env },
    );
    assert.equal(await sup['delegate/worker']({}), 'started');
    assert.match(String(handed), /^[\w-]+\.[\w-]+\.[\w-]+$/, 'a JWT, inside the tool body');
    assert.equal(delegationToken(), undefined, 'and nowhere else');

    const worker = governedTools(
      { 'docs/read': async (_a: object) => 'read', 'web/fetch': async (_a: object) => 'fetched' },
      { agentId: 'worker', env: { ...env, FARAMESH_DELEGATION_TOKEN: handed! } },
    );
    assert.equal(await worker['docs/read']({}), 'read');
    // Outside the grant's scope, whatever the worker's own rules say.
    const outside = await worker['web/fetch']({}).catch((e: unknown) => e);
    assert.ok(outside instanceof ToolDeniedError && outside.code === 'POLICY_DENY', String(outside));
    // The records carry the chain.
    const records = d
      .cli('audit', 'export', '--format', 'jsonl')
      .stdout.trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const read = records.find((r) => r.type === 'decision' && r.agent_id === 'worker' && r.tool === 'docs/read');
    assert.ok(Array.isArray(read?.delegation_chain) && (read.delegation_chain as unknown[]).length > 0, JSON.stringify(read));
    // A token for another agent is refused.
    const stolen = governedTools({ 'docs/read': async (_a: object) => 'read' }, { agentId: 'sup', env, delegationToken: handed! });
    const refused = await stolen['docs/read']({}).catch((e: unknown) => e);
    assert.ok(refused instanceof ToolDeniedError && refused.code === 'IDENTITY_UNVERIFIED', String(refused));
  } finally {
    d.stop();
  }
});
