import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_HOLD_MS, SteadyClock } from '../src/core/clock.js';

/** A system clock and a monotonic clock the test moves: `pass` moves both, `step` the system clock alone. */
function clocks() {
  const t = { wall: Date.UTC(2026, 10, 24, 9, 0, 0), mono: 5_000 };
  return {
    clock: new SteadyClock(
      () => t.wall,
      () => t.mono,
    ),
    pass: (ms: number) => ((t.wall += ms), (t.mono += ms)),
    step: (ms: number) => (t.wall += ms),
  };
}

test('the daemon clock follows the system clock, forward steps too', () => {
  const { clock, pass, step } = clocks();
  const start = clock.now();
  pass(1500);
  assert.equal(clock.now(), start + 1500);
  step(3_600_000);
  assert.equal(clock.now(), start + 1500 + 3_600_000);
  assert.equal(clock.ahead(), 0);
  assert.equal(clock.news(), undefined);
});

test('a system clock stepped back: the daemon counts on from where it was, then rejoins it once it catches up', () => {
  const { clock, pass, step } = clocks();
  const start = clock.now();
  step(-3_600_000);
  assert.equal(clock.now(), start, 'never backward');
  pass(10_000);
  assert.equal(clock.now(), start + 10_000, 'time keeps passing at the real rate');
  assert.equal(clock.ahead(), 3_600_000);
  assert.match(clock.news()!, /system clock is 3600 s behind/);
  assert.equal(clock.news(), undefined, 'said once');
  step(3_600_000 + 2_000);
  assert.equal(clock.now(), start + 12_000, 'a system clock ahead again is followed');
  assert.equal(clock.ahead(), 0);
  assert.match(clock.news()!, /caught up/);
});

test(`a step back of more than ${MAX_HOLD_MS / 86_400_000} days is followed (the correction of a clock set far ahead)`, () => {
  const { clock, step } = clocks();
  const start = clock.now();
  step(-(MAX_HOLD_MS + 1));
  assert.equal(clock.now(), start - MAX_HOLD_MS - 1);
  assert.match(clock.news()!, /stepped back more than 7 days/);
});

test("notBefore: at a start, the log's latest time holds the clock unless it is further ahead than a hold", () => {
  const { clock, pass } = clocks();
  const start = clock.now();
  clock.notBefore(start - 1000);
  assert.equal(clock.now(), start, 'an earlier time changes nothing');
  clock.notBefore(start + 60_000);
  assert.equal(clock.now(), start + 60_000);
  pass(1000);
  assert.equal(clock.now(), start + 61_000);
  clock.notBefore(start + MAX_HOLD_MS + 120_000);
  assert.equal(clock.now(), start + 61_000, 'a log time more than a hold ahead is not believed');
  clock.notBefore(Number.NaN);
  assert.equal(clock.now(), start + 61_000);
});
