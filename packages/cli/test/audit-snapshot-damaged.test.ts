import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AuditLog, loadStackSigner, readRecords, type RecordInput } from '@faramesh/audit';

const BIN = fileURLToPath(new URL('../../bin/faramesh.js', import.meta.url));

function run(args: string[], cwd: string): { code: number; stdout: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status ?? -1, stdout: r.stdout };
}

const delta = (i: number): RecordInput => ({ type: 'state_delta', agent_id: 'support-bot', delta: { i } });

test("audit verify says when snapshot.json is damaged or missing: the check for records cut from the log's end could not be made", async () => {
  const stack = mkdtempSync(join(tmpdir(), 'faramesh-audit-snapshot-'));
  writeFileSync(join(stack, 'governance.fms'), 'runtime {\n  wal_dir = "./wal"\n}\n\nagent "support-bot" {\n  default deny\n}\n');
  const wal = join(stack, 'wal');
  const { log } = await AuditLog.open(wal, { signer: loadStackSigner(stack, 'faramesh/test'), checkpointEvery: 2 });
  for (let i = 0; i < 6; i++) await log.append(delta(i));
  await log.close();
  const sound = run(['audit', 'verify', '--format', 'json'], stack);
  assert.equal(sound.code, 0, sound.stdout);
  assert.equal((JSON.parse(sound.stdout) as { snapshot: string }).snapshot, 'ok');
  assert.doesNotMatch(run(['audit', 'verify'], stack).stdout, /snapshot\.json/);

  // The last records cut from the end (zeroed, as an unwritten tail reads): the snapshot shows it...
  const segment = join(
    wal,
    readdirSync(wal).find((f) => f.endsWith('.wal'))!,
  );
  const records = readRecords(wal);
  const bytes = readFileSync(segment);
  bytes.fill(0, records.at(-2)!.offset);
  writeFileSync(segment, bytes);
  const cut = run(['audit', 'verify'], stack);
  assert.equal(cut.code, 1, cut.stdout);
  assert.match(cut.stdout, /records were removed from its end/);
  // ...unless the snapshot is damaged too: the shorter log is consistent in itself, so verify passes,
  // but it must say that the check was not made rather than skip it in silence.
  writeFileSync(join(wal, 'snapshot.json'), '{"body":"{}","sha256":"00"}');
  const damaged = run(['audit', 'verify'], stack);
  assert.equal(damaged.code, 0, damaged.stdout);
  assert.match(
    damaged.stdout,
    /\n! snapshot\.json is damaged \(it does not check out\): records removed from the log's end could not be checked/,
  );
  assert.equal((JSON.parse(run(['audit', 'verify', '--format', 'json'], stack).stdout) as { snapshot: string }).snapshot, 'damaged');
  rmSync(join(wal, 'snapshot.json'));
  assert.match(run(['audit', 'verify'], stack).stdout, /\n {2}no snapshot\.json: records removed from the log's end could not be checked/);
  assert.equal((JSON.parse(run(['audit', 'verify', '--format', 'json'], stack).stdout) as { snapshot: string }).snapshot, 'missing');
});
