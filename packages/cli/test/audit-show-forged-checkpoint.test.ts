import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canonicalJson } from '@faramesh/protocol';
import { argsHash, AuditLog, Ed25519Signer, encodeTextFrame, loadStackSigner, newEd25519Key, signNote } from '@faramesh/audit';

const BIN = fileURLToPath(new URL('../../bin/faramesh.js', import.meta.url));
const POLICY = 'ab'.repeat(32);

function run(args: string[], cwd: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A stack with a signed log of a few decisions; the log's last record is the closing checkpoint. */
async function stackWithLog(): Promise<{ stack: string; wal: string; ids: string[] }> {
  const stack = mkdtempSync(join(tmpdir(), 'faramesh-show-forged-'));
  writeFileSync(join(stack, 'governance.fms'), 'runtime {\n  wal_dir = "./wal"\n}\n\nagent "bot" {\n  default deny\n}\n');
  const wal = join(stack, 'wal');
  const { log } = await AuditLog.open(wal, { signer: loadStackSigner(stack, 'faramesh/test'), checkpointEvery: 4 });
  await log.append({ type: 'policy_applied', policy_version: POLICY, source_hash: 'cd'.repeat(32) });
  const ids: string[] = [];
  for (let i = 0; i < 10; i++) {
    const appended = await log.append({
      type: 'decision',
      schema: 'dpr/2.0',
      agent_id: 'bot',
      tool: 'stripe/refund',
      action_type: 'tool_call',
      args_hash: argsHash({ amount: i }),
      effect: 'permit',
      rule_ref: 'governance.fms:3',
      policy_version: POLICY,
      latency_ms: { policy: 0.02 },
    });
    ids.push(appended.id);
  }
  await log.close();
  return { stack, wal, ids };
}

/** Rewrite each record of the log's segments through `edit` (frame checksums recomputed; segment headers kept). */
async function rewriteRecords(wal: string, edit: (record: Record<string, unknown>) => Promise<Record<string, unknown>>): Promise<void> {
  for (const segment of readdirSync(wal).filter((f) => f.endsWith('.wal'))) {
    const bytes = readFileSync(join(wal, segment));
    const parts: Buffer[] = [];
    let at = 0;
    for (let header = true; at + 8 <= bytes.length; header = false) {
      const length = bytes.readUInt32BE(at);
      if (length === 0) break;
      const record = JSON.parse(bytes.subarray(at + 8, at + 8 + length).toString()) as Record<string, unknown>;
      parts.push(header ? bytes.subarray(at, at + 8 + length) : encodeTextFrame(canonicalJson(await edit(record))).frame);
      at += 8 + length;
    }
    writeFileSync(join(wal, segment), Buffer.concat([...parts, bytes.subarray(at)]));
  }
}

test('audit show and explain: a record altered after the last good checkpoint is not said to verify when the checkpoint after it is re-signed by an unpinned key', async () => {
  const { stack, wal, ids } = await stackWithLog();
  const target = ids.at(-1)!;
  let closing = -1;
  await rewriteRecords(wal, (r) => {
    if (r.type === 'checkpoint') closing = Number(r.seq);
    return Promise.resolve(r);
  });
  // The forger alters the chain's last decision (no successor exposes it) and re-signs the closing
  // checkpoint with a key of their own under the stack's key name: that signature does not verify,
  // so the checkpoint's root, which would have exposed the alteration, is never compared.
  const forger = new Ed25519Signer('faramesh/test', newEd25519Key());
  await rewriteRecords(wal, async (r) => {
    if (r.id === target) return { ...r, latency_ms: { policy: 0.01 } };
    if (r.seq !== closing || typeof r.note !== 'string') return r;
    return { ...r, note: await signNote(r.note.slice(0, r.note.indexOf('\n\n') + 1), [forger]) };
  });
  assert.equal(run(['audit', 'verify'], stack).code, 1);
  for (const args of [
    ['audit', 'show', `action-${target}`],
    ['explain', `action-${target}`],
  ]) {
    const r = run(args, stack);
    assert.doesNotMatch(r.stdout, /the log verifies up to this record/, `${args.join(' ')}: ${r.stdout}`);
    assert.match(r.stdout, /broken at seq \d+ \(note: /, args.join(' '));
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}`);
  }
  // Records the last good checkpoint covers still verify.
  const covered = run(['audit', 'show', `action-${ids[0]!}`], stack);
  assert.match(covered.stdout, /the log verifies up to this record/);
  assert.equal(covered.code, 0);
});
