import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AuditLog, loadStackSigner, type RecordInput } from '@faramesh/audit';

const BIN = fileURLToPath(new URL('../../bin/faramesh.js', import.meta.url));

function run(args: string[], cwd: string): { code: number; stdout: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status ?? -1, stdout: r.stdout };
}

const delta = (i: number): RecordInput => ({ type: 'state_delta', agent_id: 'support-bot', delta: { i, pad: 'x'.repeat(100) } });

test('audit verify: a damaged base.json of a compacted log is a problem of the log (exit 1, a JSON report), not "no log" (exit 2)', async () => {
  const stack = mkdtempSync(join(tmpdir(), 'faramesh-audit-base-'));
  writeFileSync(join(stack, 'governance.fms'), 'runtime {\n  wal_dir = "./wal"\n}\n\nagent "support-bot" {\n  default deny\n}\n');
  const wal = join(stack, 'wal');
  const { log } = await AuditLog.open(wal, { signer: loadStackSigner(stack, 'faramesh/test'), checkpointEvery: 10, maxSegmentBytes: 4000 });
  for (let i = 0; i < 60; i++) await log.append(delta(i));
  assert.ok((await log.compact({ before: Date.now() + 60_000, archiveDir: `${wal}-archive` })).records > 0);
  await log.close();
  assert.equal(run(['audit', 'verify'], stack).code, 0);
  writeFileSync(join(wal, 'base.json'), '{"format":');
  const text = run(['audit', 'verify'], stack);
  assert.equal(text.code, 1, text.stdout);
  assert.match(
    text.stdout,
    /✗ base problem at seq 0\n {4}field: {3}base\n {4}reason: {2}the base of the compacted log is malformed\n {4}file: {4}wal\/base\.json/,
  );
  const json = run(['audit', 'verify', '--format', 'json'], stack);
  assert.equal(json.code, 1);
  const report = JSON.parse(json.stdout) as { ok: boolean; problems: { segment: string; field: string }[] };
  assert.equal(report.ok, false);
  assert.deepEqual(
    report.problems.map((p) => [p.segment, p.field]),
    [['base.json', 'base']],
  );
});
