/** The README's framework guides are these examples: each runs against a real daemon here. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startDaemon, type TestDaemon } from './daemon.js';

let d: TestDaemon;
before(() => (d = startDaemon()));
after(() => d.stop());

for (const example of ['ai-sdk', 'langchain', 'openai-agents', 'mastra', 'mcp-server'])
  test(`examples/${example}.mjs: the permitted call runs, the denied one reaches the model as a structured denial`, () => {
    const file = fileURLToPath(new URL(`../../examples/${example}.mjs`, import.meta.url));
    const env: NodeJS.ProcessEnv = { ...process.env, FARAMESH_SOCKET: d.socket };
    delete env.NODE_OPTIONS;
    const r = spawnSync(process.execPath, [file], { encoding: 'utf8', env, timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const results = new Map(JSON.parse(r.stdout) as [string, unknown][]);
    assert.equal(results.get('searchDocs'), '3 results for fees');
    const denial = results.get('payout');
    const parsed = (typeof denial === 'string' ? JSON.parse(denial) : denial) as { code: string; message: string };
    assert.equal(parsed.code, 'POLICY_DENY');
    assert.equal(parsed.message, 'platform team only');
  });
