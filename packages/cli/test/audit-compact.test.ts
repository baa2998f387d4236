import { test } from 'node:test';
import assert from 'node:assert/strict';

import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog, readBase } from '@faramesh/audit';
import { canonicalJson } from '@faramesh/protocol';
import { BIN, makeStack, POLICY, request, sinkCollector, until, type Stack } from './daemon-helpers.js';

/** A log from 2020: several sealed segments, every record years old (what compaction moves). */
async function oldLog(wal: string): Promise<void> {
  const { log } = await AuditLog.open(wal, { maxSegmentBytes: 4000 });
  for (let i = 0; i < 80; i++)
    await log.append({ type: 'state_delta', delta: { ops: [] }, time: `2020-01-01T00:00:${String(i % 60).padStart(2, '0')}.000Z` });
  await log.close();
}

const search = { agent_id: 'bot', tool: 'search', args: {} };
const stateSnapshot = (s: Stack) => join(s.dir, '.faramesh', 'state', 'engine-state.json');

async function withOldStack(policy: string, f: (s: Stack) => Promise<void>): Promise<void> {
  const s = makeStack(policy);
  try {
    await oldLog(join(s.dir, 'wal'));
    await f(s);
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
}

test('audit compact: old segments move to an archive through the daemon; verify checks the rest, and reads the archive on request; state survives', async () => {
  await withOldStack(POLICY.replace('rate_limit "search": 3 per minute', 'rate_limit "search": 3 per day'), async (s) => {
    assert.equal(s.cli('apply').code, 0);
    for (let i = 0; i < 3; i++) assert.equal((await s.govern(search)).effect, 'PERMIT');
    assert.equal((await s.govern(search)).reason_code, 'RATE_EXCEEDED');
    assert.equal(s.cli('audit', 'compact', '--older-than', '5000d').stdout.includes('nothing to compact'), true);

    const archive = mkdtempSync(join(tmpdir(), 'fm-archive-'));
    const compacted = s.cli('audit', 'compact', '--older-than', '30d', '--archive', archive, '--format', 'json');
    assert.equal(compacted.code, 0, compacted.stderr);
    const r = JSON.parse(compacted.stdout) as { records: number; size: number; archive: string };
    assert.ok(r.records > 0 && r.size === r.records, compacted.stdout);
    assert.ok(existsSync(r.archive) && r.archive.startsWith(archive));
    const wal = join(s.dir, 'wal');
    assert.equal(readBase(wal)!.base.size, r.size);

    const verify = s.cli('audit', 'verify');
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, new RegExp(`compacted: the first ${r.size} records checked by their leaf hashes`));
    const full = s.cli('audit', 'verify', '--include-archived');
    assert.equal(full.code, 0, full.stdout + full.stderr);
    assert.match(full.stdout, /read in full from 1 archive file/);
    assert.match(s.cli('audit', 'wal', 'inspect').stdout, new RegExp(`compacted: +the first ${r.size} records`));
    assert.match(s.cli('status').stdout, new RegExp(`records, the first ${r.size} archived\\)`));
    // export reads the archived records too when asked: every record, from seq 0.
    const exported = s.cli('audit', 'export', '--include-archived', '--format', 'jsonl');
    assert.equal(exported.code, 0, exported.stderr);
    const seqs = exported.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { seq: number }).seq);
    assert.deepEqual(seqs.slice(0, 3), [0, 1, 2]);
    assert.ok(seqs.every((seq, i) => seq === i));
    assert.equal((JSON.parse(s.cli('audit', 'export', '--format', 'jsonl').stdout.split('\n')[0]!) as { seq: number }).seq, r.size);
    // The tail readers and the decision log go on from the base.
    assert.equal(s.cli('audit', 'ls', '--since', '1h').code, 0);

    // The engine state comes back from the snapshot the base carries when engine-state.json is gone.
    assert.equal(s.cli('apply', '--stop').code, 0);
    rmSync(stateSnapshot(s));
    assert.equal(s.cli('apply').code, 0);
    assert.equal((await s.govern(search)).reason_code, 'RATE_EXCEEDED', 'the rate limit still counts the earlier calls');

    // Without either snapshot the state cannot be rebuilt from the records left: the start is refused.
    assert.equal(s.cli('apply', '--stop').code, 0);
    rmSync(stateSnapshot(s));
    const baseFile = join(wal, 'base.json');
    const kept = readFileSync(baseFile);
    const { carry: _carry, ...bare } = JSON.parse(kept.toString('utf8')) as Record<string, unknown>;
    writeFileSync(baseFile, canonicalJson(bare));
    const refused = s.cli('apply');
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr + refused.stdout, /compacted and no state snapshot matches the log/);
    // And verify says the base is not the one the log recorded.
    assert.match(s.cli('audit', 'verify').stdout, /no log_compacted record names this base/);
    writeFileSync(baseFile, kept);
    assert.equal(s.cli('apply').code, 0);
    assert.equal((await s.govern(search)).reason_code, 'RATE_EXCEEDED');
    assert.equal(s.cli('audit', 'verify', '--include-archived', '--archive', archive).code, 0);
    // destroy removes the live log, never the archive (nor the keys that verify it).
    const destroyed = s.cli('destroy', '--yes');
    assert.equal(destroyed.code, 0, destroyed.stderr);
    assert.match(destroyed.stdout, new RegExp(`archive files kept in ${archive}: they hold the log's first ${r.size} records`));
    assert.ok(existsSync(r.archive) && existsSync(join(s.dir, '.faramesh', 'keys')));
  });
});

test('runtime { wal_retention }: the daemon compacts on its own, beside the log by default', async () => {
  const policy = POLICY.replace('wal_dir = "./wal"', 'wal_dir = "./wal"\n  wal_retention = "30d"');
  await withOldStack(policy, async (s) => {
    assert.equal(s.cli('apply').code, 0);
    const wal = join(s.dir, 'wal');
    await until('wal_retention compacted the old segments', () => existsSync(join(wal, 'base.json')));
    const archives = readdirSync(join(s.dir, 'wal-archive'));
    assert.match(s.cli('status').stdout, /archived; wal_retention 30d 0h\)/);
    assert.equal(archives.length, 1);
    assert.match(archives[0]!, /^wal-0{16}-\d{16}\.archive$/);
    const verify = s.cli('audit', 'verify', '--include-archived');
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  });
});

test('a compacted stack moved to another directory starts again from the snapshot its base carries', async () => {
  await withOldStack(POLICY.replace('rate_limit "search": 3 per minute', 'rate_limit "search": 3 per day'), async (s) => {
    assert.equal(s.cli('apply').code, 0);
    for (let i = 0; i < 4; i++) await s.govern(search);
    const compacted = s.cli('audit', 'compact', '--older-than', '30d', '--format', 'json');
    assert.equal(compacted.code, 0, compacted.stderr);
    assert.ok((JSON.parse(compacted.stdout) as { records: number }).records > 0);
    assert.equal(s.cli('apply', '--stop').code, 0);
    // The stack moves (a new mount point, a restored backup): every snapshot names the old path.
    const moved = `${s.dir}-moved`;
    renameSync(s.dir, moved);
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, [BIN, ...args, '--dir', moved], {
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1', HOME: moved },
        timeout: 120_000,
      });
    try {
      const started = cli('apply');
      assert.equal(started.status, 0, started.stdout + started.stderr);
      const reply = JSON.parse(
        await request(
          join(moved, '.faramesh', 'runtime', 'agent.sock'),
          JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'govern', params: search }),
        ),
      ) as { result: { reason_code?: string } };
      assert.equal(reply.result.reason_code, 'RATE_EXCEEDED', 'the rate limit still counts the calls made before the move');
    } finally {
      cli('apply', '--stop');
      renameSync(moved, s.dir);
    }
  });
});

test('audit compact says which sink keeps old sealed segments live, not that none is old enough', async () => {
  const collector = await sinkCollector(true);
  const s = makeStack(
    POLICY.replace('agent "bot"', `provider "hook" {\n  type = "webhook-sink"\n  url  = "${collector.url}/hook"\n}\n\nagent "bot"`),
  );
  try {
    assert.equal(s.cli('apply').code, 0);
    await s.govern(search);
    assert.equal(s.cli('apply', '--stop').code, 0);
    // Seal the segment the daemon wrote (its records unshipped: the collector is down).
    const { log } = await AuditLog.open(join(s.dir, 'wal'), { maxSegmentBytes: 1 });
    await log.append({ type: 'state_delta', delta: { ops: [] } });
    await log.close();
    assert.equal(s.cli('apply').code, 0);
    const r = s.cli('audit', 'compact', '--older-than', '0s');
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /nothing to compact: sealed segments from record \d+ on stay live, old as they are: sink hook has not shipped record \d+ yet/,
    );
    const json = JSON.parse(s.cli('audit', 'compact', '--older-than', '0s', '--format', 'json').stdout) as { held_by?: string[] };
    assert.deepEqual(json.held_by, ['hook']);
  } finally {
    s.cli('apply', '--stop');
    s.stop();
    collector.close();
  }
});

test('a sink put back in the policy after a compaction archived its position ships on from the live log', async () => {
  const collector = await sinkCollector(true);
  const withSink = (on: boolean) =>
    on
      ? POLICY.replace('agent "bot"', `provider "hook" {\n  type = "webhook-sink"\n  url  = "${collector.url}/hook"\n}\n\nagent "bot"`)
      : POLICY;
  const s = makeStack(POLICY);
  const policy = (on: boolean) => writeFileSync(join(s.dir, 'governance.fms'), withSink(on));
  try {
    assert.equal(s.cli('apply').code, 0);
    assert.equal(s.cli('apply', '--stop').code, 0);
    // New to the stack at a start, and down: its saved position is where the log then ended.
    policy(true);
    assert.equal(s.cli('apply').code, 0);
    await s.govern(search);
    // Taken out of the policy: it no longer keeps records live, and a compaction archives its position.
    policy(false);
    assert.equal(s.cli('apply').code, 0);
    assert.equal(s.cli('apply', '--stop').code, 0);
    const { log } = await AuditLog.open(join(s.dir, 'wal'), { maxSegmentBytes: 1 });
    await log.append({ type: 'state_delta', delta: { ops: [] } });
    await log.close();
    assert.equal(s.cli('apply').code, 0);
    const compacted = JSON.parse(s.cli('audit', 'compact', '--older-than', '0s', '--format', 'json').stdout) as { records: number };
    assert.ok(compacted.records > 0);
    // Back in the policy, with its collector up: it ships what the live log holds, and says what it missed.
    collector.down = false;
    policy(true);
    assert.equal(s.cli('apply').code, 0);
    const after = (await s.govern(search)).action_id!.slice(7);
    await until('the sink ships again', () => collector.shipped.some((r) => r.id === after), 15_000);
    assert.match(
      readFileSync(join(s.dir, '.faramesh', 'runtime', 'daemon.log'), 'utf8'),
      /sink hook: its saved position \(record \d+\) was compacted/,
    );
  } finally {
    s.cli('apply', '--stop');
    s.stop();
    collector.close();
  }
});

test('audit compact with no daemon running compacts from the stack files: state, sinks and verify as with the daemon', async () => {
  const collector = await sinkCollector(true);
  const policy = POLICY.replace('rate_limit "search": 3 per minute', 'rate_limit "search": 3 per day').replace(
    'agent "bot"',
    `provider "hook" {\n  type = "webhook-sink"\n  url  = "${collector.url}/hook"\n}\n\nagent "bot"`,
  );
  await withOldStack(policy, async (s) => {
    // Never applied: nothing says where the log is or how it is signed.
    const unapplied = s.cli('audit', 'compact', '--older-than', '30d');
    assert.equal(unapplied.code, 1);
    assert.match(unapplied.stderr, /not compacted \(no daemon is running.*no compiled policy/);
    assert.equal(s.cli('apply').code, 0);
    for (let i = 0; i < 4; i++) await s.govern(search);
    assert.equal(s.cli('apply', '--stop').code, 0);
    // The sink (down) has shipped nothing since it joined: the old segments before its position move, the rest stay.
    const first = s.cli('audit', 'compact', '--older-than', '30d', '--format', 'json');
    assert.equal(first.code, 0, first.stderr);
    const r = JSON.parse(first.stdout) as { records: number; size: number; archive: string; held?: number };
    assert.ok(r.records > 0 && existsSync(r.archive) && r.archive.startsWith(join(s.dir, 'wal-archive')), first.stdout);
    assert.equal(readBase(join(s.dir, 'wal'))!.base.size, r.size);
    const verify = s.cli('audit', 'verify');
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.equal(s.cli('audit', 'verify', '--include-archived').code, 0);
    // Sealed segments the sink has not shipped stay live, however old.
    const { log } = await AuditLog.open(join(s.dir, 'wal'), { maxSegmentBytes: 1 });
    await log.append({ type: 'state_delta', delta: { ops: [] } });
    await log.close();
    const again = s.cli('audit', 'compact', '--older-than', '0s', '--format', 'json');
    assert.equal(again.code, 0, again.stderr);
    const held = JSON.parse(again.stdout) as { records: number; held_by?: string[] };
    assert.equal(held.records, 0);
    assert.deepEqual(held.held_by, ['hook']);
    // The daemon starts on the state the command snapshotted, and again from the base's copy of it.
    assert.equal(s.cli('apply').code, 0);
    assert.equal((await s.govern(search)).reason_code, 'RATE_EXCEEDED');
    assert.equal(s.cli('apply', '--stop').code, 0);
    rmSync(stateSnapshot(s));
    assert.equal(s.cli('apply').code, 0);
    assert.equal((await s.govern(search)).reason_code, 'RATE_EXCEEDED', 'the rate limit still counts the earlier calls');
    // The sink ships everything it had not, once it is up.
    collector.down = false;
    const last = (await s.govern(search)).action_id!.slice(7);
    await until('the sink ships what was held for it', () => collector.shipped.some((x) => x.id === last), 15_000);
    const verified = s.cli('audit', 'verify', '--include-archived');
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  }).finally(() => collector.close());
});

test('ls, stats, trace, show and proof read archived records under --include-archived', async () => {
  const s = makeStack(POLICY);
  try {
    assert.equal(s.cli('apply').code, 0);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await s.govern({ ...search, request_id: 'run-1' })).action_id!);
    assert.equal(s.cli('apply', '--stop').code, 0);
    // Seal the segment holding the decisions, with a record after it (where the state snapshot ends,
    // which stays live), then compact it away (no daemon runs: the command does it).
    for (const maxSegmentBytes of [1, undefined]) {
      const { log } = await AuditLog.open(join(s.dir, 'wal'), maxSegmentBytes ? { maxSegmentBytes } : {});
      await log.append({ type: 'state_delta', delta: { ops: [] } });
      await log.close();
    }
    const compacted = s.cli('audit', 'compact', '--older-than', '0s', '--format', 'json');
    assert.equal(compacted.code, 0, compacted.stderr);
    assert.ok((JSON.parse(compacted.stdout) as { records: number }).records > 3);

    const listed = (...args: string[]) =>
      (JSON.parse(s.cli('audit', 'ls', '--format', 'json', ...args).stdout) as { decisions: { action_id: string }[] }).decisions;
    assert.deepEqual(listed(), []);
    assert.deepEqual(
      listed('--include-archived').map((r) => r.action_id),
      ids,
    );
    assert.deepEqual(listed('--include-archived', '--since', '1h').length, 3);
    assert.match(s.cli('audit', 'stats', '--include-archived').stdout, /total +3\n/);
    assert.match(s.cli('audit', 'stats').stdout, /total +0\n/);

    const missing = s.cli('audit', 'trace', 'run-1');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /compacted into archive files/);
    const traced = s.cli('audit', 'trace', 'run-1', '--include-archived', '--format', 'json');
    assert.equal(traced.code, 0, traced.stderr);
    assert.equal(traced.stdout.trim().split('\n').length, 3);

    assert.match(s.cli('audit', 'show', ids[1]!).stderr, /compacted into archive files/);
    const shown = s.cli('audit', 'show', ids[1]!, '--include-archived', '--format', 'json');
    assert.equal(shown.code, 0, shown.stderr);
    const ev = JSON.parse(shown.stdout) as { record: { id: string }; chain: { ok: boolean }; signed?: { tree_size: number } };
    assert.equal(`action-${ev.record.id}`, ids[1]);
    assert.equal(ev.chain.ok, true);
    assert.ok(ev.signed && ev.signed.tree_size > 3, shown.stdout);
    // explain reads them the same way: a decision by its action id, a run by its correlation id.
    assert.equal(s.cli('explain', ids[1]!).code, 1);
    const explained = s.cli('explain', ids[1]!, '--include-archived');
    assert.equal(explained.code, 0, explained.stderr);
    assert.match(explained.stdout, /search/);
    const run = s.cli('explain', 'run', 'run-1', '--include-archived', '--format', 'json');
    assert.equal(run.code, 0, run.stderr);
    assert.equal((JSON.parse(run.stdout) as { decisions: unknown[] }).decisions.length, 3);
    const proved = s.cli('audit', 'proof', ids[1]!, '--include-archived', '--format', 'json');
    assert.equal(proved.code, 0, proved.stderr);
    assert.equal((JSON.parse(proved.stdout) as { action_id: string }).action_id, ids[1]);
    // Archives elsewhere than the base says: --archive names them.
    const archiveDir = join(s.dir, 'wal-archive');
    const moved = `${archiveDir}-moved`;
    renameSync(archiveDir, moved);
    assert.notEqual(s.cli('audit', 'ls', '--include-archived').code, 0);
    assert.equal(listed('--include-archived', '--archive', moved).length, 3);
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});

test('audit compact with no daemon keeps live what a sink whose saved position is another log has yet to ship', async () => {
  const collector = await sinkCollector(true);
  const withSink = (wal: string) =>
    POLICY.replace('./wal', wal).replace(
      'agent "bot"',
      `provider "hook" {\n  type = "webhook-sink"\n  url  = "${collector.url}/hook"\n}\n\nagent "bot"`,
    );
  const s = makeStack(withSink('./wal'));
  try {
    // The sink ships a while from a long log: its saved position is far along it.
    const { log: first } = await AuditLog.open(join(s.dir, 'wal'));
    for (let i = 0; i < 200; i++) await first.append({ type: 'state_delta', delta: { ops: [] } });
    await first.close();
    collector.down = false;
    assert.equal(s.cli('apply').code, 0);
    const shipped = (await s.govern(search)).action_id!.slice(7);
    await until('the sink ships', () => collector.shipped.some((r) => r.id === shipped), 15_000);
    collector.down = true;
    assert.equal(s.cli('apply', '--stop').code, 0);
    // The log moves: the sink ships the new one from its start, and is down meanwhile.
    writeFileSync(join(s.dir, 'governance.fms'), withSink('./wal2'));
    assert.equal(s.cli('apply').code, 0);
    const unshipped = (await s.govern(search)).action_id!.slice(7);
    assert.equal(s.cli('apply', '--stop').code, 0);
    for (const maxSegmentBytes of [1, undefined]) {
      const { log } = await AuditLog.open(join(s.dir, 'wal2'), maxSegmentBytes ? { maxSegmentBytes } : {});
      await log.append({ type: 'state_delta', delta: { ops: [] } });
      await log.close();
    }
    const r = s.cli('audit', 'compact', '--older-than', '0s', '--format', 'json');
    assert.equal(r.code, 0, r.stderr);
    const compacted = JSON.parse(r.stdout) as { records: number; held_by?: string[] };
    assert.equal(compacted.records, 0, 'nothing the sink has yet to ship is archived');
    assert.deepEqual(compacted.held_by, ['hook']);
    collector.down = false;
    assert.equal(s.cli('apply').code, 0);
    await until('the sink ships the decision made on the new log', () => collector.shipped.some((x) => x.id === unshipped), 15_000);
  } finally {
    s.cli('apply', '--stop');
    s.stop();
    collector.close();
  }
});

test('audit compact with no daemon refuses a wal_dir where no log is, rather than creating one there', () => {
  const s = makeStack(POLICY);
  try {
    assert.equal(s.cli('apply').code, 0);
    assert.equal(s.cli('apply', '--stop').code, 0);
    const wal = join(s.dir, 'wal');
    const state = readFileSync(stateSnapshot(s), 'utf8');
    renameSync(wal, `${wal}-elsewhere`);
    const r = s.cli('audit', 'compact', '--older-than', '0s');
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /no log at .*wal/);
    assert.equal(existsSync(wal), false, 'no log was created');
    assert.equal(readFileSync(stateSnapshot(s), 'utf8'), state, 'the state snapshot of the real log is kept');
  } finally {
    s.stop();
  }
});
