import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuditLog, readRecords } from '../src/index.js';
import { delta, tmp } from './helpers.js';

// A log reopened on a clock stepped back must not write records earlier than those it holds, nor
// lose its latest time (the daemon's clock counts on from it) because its active segment was just
// rotated and holds no record yet.
test('a log whose active segment is empty (just rotated) still knows its latest record time', async () => {
  const dir = tmp();
  const ahead = Date.now() + 2 * 3_600_000;
  let opened = await AuditLog.open(dir, { now: () => ahead, maxSegmentBytes: 1 });
  await opened.log.append(delta('a', 0, { tool: 't1' }));
  await opened.log.close();
  opened = await AuditLog.open(dir, { now: () => Date.now(), maxSegmentBytes: 1 << 20 });
  assert.equal(opened.log.latestTimeMs, ahead);
  await opened.log.append(delta('a', 0, { tool: 't2' }));
  await opened.log.close();
  const times = readRecords(dir).map((r) => Date.parse(String(r.record.time)));
  for (let i = 1; i < times.length; i++) assert.ok(times[i]! >= times[i - 1]!, `record ${i} is earlier than record ${i - 1}`);
});
