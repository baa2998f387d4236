import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeTime, isValid } from 'ulid';
import { RecordClock } from '../src/log/clock.js';

test('record ids are ULIDs, strictly increasing within a millisecond and when the clock steps back', () => {
  let now = 1_700_000_000_000;
  const clock = new RecordClock(() => now);
  const ids: string[] = [];
  for (let i = 0; i < 5000; i++) {
    if (i === 2000) now += 5;
    if (i === 3000) now -= 1000; // the wall clock stepped back: ids keep increasing
    ids.push(clock.next().id);
  }
  for (const id of ids) assert.ok(isValid(id), id);
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1]! < ids[i]!, `${ids[i - 1]} < ${ids[i]}`);
  assert.equal(decodeTime(ids[0]!), 1_700_000_000_000);
  assert.equal(decodeTime(ids[2500]!), 1_700_000_000_005);
  assert.equal(decodeTime(ids[4000]!), 1_700_000_000_005, 'a stepped-back clock reuses the last time');
  // A new millisecond draws fresh random bits rather than counting on.
  assert.notEqual(ids[2000]!.slice(10, 20), ids[1999]!.slice(10, 20));
});

test('the record time is the ISO form of the id time', () => {
  const clock = new RecordClock(() => Date.UTC(2026, 10, 22, 7, 0, 0, 123));
  const { id, time } = clock.next();
  assert.equal(time, '2026-11-22T07:00:00.123Z');
  assert.equal(decodeTime(id), Date.parse(time));
});

test("a reopened log's records are not earlier than the latest it holds, though the clock says so", () => {
  let now = Date.UTC(2026, 10, 22, 7, 0, 0, 0);
  const clock = new RecordClock(() => now, now + 60_000);
  assert.equal(clock.next().time, '2026-11-22T07:01:00.000Z');
  now += 120_000;
  assert.equal(clock.next().time, '2026-11-22T07:02:00.000Z', 'once the clock passes the floor, it is followed');
});

test('a time given alone is never followed by an earlier one, from time() or next(), when the clock steps back', () => {
  let now = Date.UTC(2026, 10, 22, 7, 0, 0, 0);
  const clock = new RecordClock(() => now);
  const times = [clock.next().time];
  now += 500;
  times.push(clock.time());
  now -= 300; // the wall clock stepped back, below the time just given but above the last id's
  times.push(clock.time(), clock.next().time);
  now += 1000;
  times.push(clock.time(), clock.next().time);
  for (let i = 1; i < times.length; i++) assert.ok(times[i - 1]! <= times[i]!, `${times[i - 1]} <= ${times[i]}`);
  assert.equal(times[2], '2026-11-22T07:00:00.500Z');
});
