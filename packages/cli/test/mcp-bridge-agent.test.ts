/** faramesh mcp without --agent, in a stack whose agents have their own MCP ports and no shared one: it asks for the agent. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from './daemon-helpers.js';

test('faramesh mcp without an agent, and no shared port: names --agent, not a token the stack has no use for', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-mcp-noagent-'));
  try {
    mkdirSync(join(dir, '.faramesh', 'runtime'), { recursive: true });
    writeFileSync(join(dir, '.faramesh', 'runtime', 'mcp.json'), JSON.stringify({ agents: { coder: 1 } }));
    const env = { ...process.env };
    delete env.FARAMESH_AGENT_ID;
    delete env.FARAMESH_TOKEN;
    delete env.FARAMESH_MCP_PROXY;
    const r = spawnSync(process.execPath, [BIN, 'mcp', 'files', '--dir', dir], { encoding: 'utf8', input: '', env });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--agent <id>/);
    assert.match(r.stderr, /coder/);
    assert.doesNotMatch(r.stderr, /FARAMESH_TOKEN/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
