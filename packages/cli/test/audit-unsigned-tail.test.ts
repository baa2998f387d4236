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

const delta = (i: number): RecordInput => ({ type: 'state_delta', agent_id: 'support-bot', delta: { i } });

test('audit verify names the records no signed checkpoint covers, in text and JSON: the chain alone attests them', async () => {
  const stack = mkdtempSync(join(tmpdir(), 'faramesh-audit-tail-'));
  writeFileSync(join(stack, 'governance.fms'), 'runtime {\n  wal_dir = "./wal"\n}\n\nagent "support-bot" {\n  default deny\n}\n');
  const wal = join(stack, 'wal');
  let { log } = await AuditLog.open(wal, { signer: loadStackSigner(stack, 'faramesh/test') });
  for (let i = 0; i < 3; i++) await log.append(delta(i));
  await log.close();
  // Closing signed everything: nothing to warn of.
  const signed = run(['audit', 'verify'], stack);
  assert.equal(signed.code, 0, signed.stdout);
  assert.doesNotMatch(signed.stdout, /after the last signed checkpoint/);
  const size = log.size;
  // Records after the last checkpoint (a crash before the next one, or a writer without the key):
  // someone with write access could rewrite or cut these and the chain would still link.
  ({ log } = await AuditLog.open(wal));
  for (let i = 3; i < 6; i++) await log.append(delta(i));
  await log.close();
  const text = run(['audit', 'verify'], stack);
  assert.equal(text.code, 0, 'a running daemon always has such a tail: a warning, not a failure');
  assert.match(text.stdout, new RegExp(`\\n! 3 records \\(seq ${size}–${size + 2}\\) after the last signed checkpoint: hash-chained only`));
  const json = JSON.parse(run(['audit', 'verify', '--format', 'json'], stack).stdout) as { unsigned: number; unsigned_range: unknown };
  assert.equal(json.unsigned, 3);
  assert.deepEqual(json.unsigned_range, { from: size, to: size + 2 });
});
