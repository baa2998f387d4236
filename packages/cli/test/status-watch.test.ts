/** `faramesh status --watch`: reports again until interrupted, follows the daemon, exits with the last code. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeStack, until } from './daemon-helpers.js';

test('status --watch reports again until SIGINT: new decisions, then the daemon stopping; exit code of the last report', async () => {
  const s = makeStack();
  try {
    assert.equal(s.cli('apply').code, 0);
    const child = s.spawnCli('status', '--watch', '--format', 'json', '--interval', '100');
    let stdout = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += String(d)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Piped JSON: one compact object per line.
    const reports = () =>
      stdout
        .split('\n')
        .filter((l) => l.endsWith('}'))
        .map((l) => JSON.parse(l) as { daemon: { state: string }; decisions?: { permit: number } });
    await until('a first report', () => reports().length > 0);
    assert.equal(reports()[0]!.daemon.state, 'READY');
    assert.equal(reports()[0]!.decisions!.permit, 0);
    await s.govern({ agent_id: 'bot', tool: 'ticket/read', args: {} });
    await until('a report with the new decision', () => reports().some((r) => r.decisions?.permit === 1));
    assert.equal(s.cli('apply', '--stop').code, 0);
    // A report asked for while the daemon drains may wait out its 5 s timeout: allow for two on a busy machine.
    await until('a report of the stopped daemon', () => reports().at(-1)?.daemon.state === 'STOPPED', 30_000);
    child.kill('SIGINT');
    assert.equal(await exited, 1, 'the last report was of a stopped daemon');

    // Text on a pipe: each report under a time line.
    const text = s.spawnCli('status', '--watch', '--interval', '100');
    let out = '';
    text.stdout!.on('data', (d: Buffer) => (out += String(d)));
    const done = new Promise<number | null>((resolve) => text.on('exit', (code) => resolve(code)));
    await until('two text reports', () => (out.match(/^— \d{4}-\d\d-\d\dT/gm) ?? []).length >= 2);
    assert.match(out, /Daemon\n {2}state: {10}STOPPED/);
    text.kill('SIGTERM');
    assert.equal(await done, 1);
    assert.equal(s.cli('status', '--watch', '--interval', 'soon').code, 64);
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});
