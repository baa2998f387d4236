/** `faramesh status` on a daemon that holds its socket but does not answer: a report and exit 2, never a crash. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, POLICY } from './daemon-helpers.js';

function cli(dir: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(dir, 'status', ...args);
}

function run(dir: string, command: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, command, '--dir', dir, ...args], { env: { ...process.env, NO_COLOR: '1', HOME: dir } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

test('status reports a daemon that does not answer as UNRESPONSIVE (exit 2), in text and JSON', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-unresp-'));
  mkdirSync(join(dir, '.faramesh', 'runtime'), { recursive: true });
  const held: Socket[] = [];
  // Accepts and never replies, as a hung or stopped daemon's socket does.
  const server = createServer((c) => void held.push(c));
  await new Promise<void>((r) => server.listen(join(dir, '.faramesh', 'runtime', 'operator.sock'), r));
  try {
    const [text, json] = await Promise.all([cli(dir), cli(dir, '--format', 'json')]);
    assert.equal(text.code, 2, text.stderr);
    assert.match(text.stdout, /state: +UNRESPONSIVE/);
    assert.doesNotMatch(text.stderr, /at Timeout/);
    assert.equal(json.code, 2, json.stderr);
    assert.equal((JSON.parse(json.stdout) as { daemon: { state: string } }).daemon.state, 'UNRESPONSIVE');
    // apply says so too, and changes nothing; apply --stop with no pid to signal says there is nothing it can stop.
    writeFileSync(join(dir, 'governance.fms'), POLICY);
    const applied = await run(dir, 'apply');
    assert.equal(applied.code, 1, applied.stdout);
    assert.match(applied.stderr, /holds its operator socket but does not answer/);
    assert.doesNotMatch(applied.stderr, /at Timeout/);
    const stopped = await run(dir, 'apply', '--stop');
    assert.doesNotMatch(stopped.stderr, /at Timeout/);
  } finally {
    for (const c of held) c.destroy();
    server.close();
  }
});
