import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { crc32c, crc32cPortable } from '../src/crc32c.js';
import { encodeFrame, FRAME_HEADER, scanFrames } from '../src/frames.js';

test('CRC-32C check values (RFC 3720 B.4 and the "123456789" check), native and portable', () => {
  assert.notEqual(crc32c, crc32cPortable, 'the native CRC (@node-rs/crc32) loads on this platform');
  for (const crc of [crc32c, crc32cPortable]) {
    assert.equal(crc(Buffer.from('123456789')), 0xe3069283);
    assert.equal(crc(Buffer.alloc(32, 0)), 0x8a9136aa);
    assert.equal(crc(Buffer.alloc(32, 0xff)), 0x62a8ab43);
    assert.equal(crc(Buffer.from(Array.from({ length: 32 }, (_, i) => i))), 0x46dd794e);
    assert.equal(crc(Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i))), 0x113fdb5c);
  }
});

test('the native and portable CRC-32C agree on any bytes, views and continued checksums', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(16), fc.integer({ min: 0, max: 0xffffffff }), (bytes, cut, seed) => {
      const view = bytes.subarray(Math.min(cut, bytes.length));
      assert.equal(crc32c(view), crc32cPortable(view));
      assert.equal(crc32c(view, seed), crc32cPortable(view, seed));
      assert.equal(crc32c(Buffer.from(view)), crc32cPortable(view));
      // A checksum continued over two halves is the checksum of the whole.
      const half = view.length >> 1;
      assert.equal(crc32c(view.subarray(half), crc32c(view.subarray(0, half))), crc32cPortable(view));
    }),
  );
});

// Frames are never empty: a zero length header marks where the records end.
const payloads = fc.array(fc.uint8Array({ minLength: 1, maxLength: 64 }), { minLength: 1, maxLength: 20 });

test('frames round-trip', () => {
  fc.assert(
    fc.property(payloads, (ps) => {
      const scan = scanFrames(Buffer.concat(ps.map(encodeFrame)));
      assert.ok(scan.ok && scan.tornAt === undefined);
      assert.deepEqual(
        scan.frames.map((f) => [...f.payload]),
        ps.map((p) => [...p]),
      );
    }),
  );
});

test('a log cut anywhere inside its last frame reads as torn there, keeping every whole frame', () => {
  fc.assert(
    fc.property(payloads, fc.nat(), (ps, cut) => {
      const whole = Buffer.concat(ps.slice(0, -1).map(encodeFrame));
      const last = encodeFrame(ps[ps.length - 1]!);
      const keep = 1 + (cut % (last.length - 1));
      const kept = last.subarray(0, keep);
      for (const tail of [Buffer.alloc(0), Buffer.alloc(last.length + 64)]) {
        // Cut off at the end of the file, or followed by preallocated zeros.
        // A frame whose missing bytes were all zeros is back whole on disk: there is nothing torn to see.
        if (tail.length > 0 && Buffer.concat([kept, tail]).subarray(0, last.length).equals(last)) continue;
        const scan = scanFrames(Buffer.concat([whole, kept, tail]));
        assert.ok(scan.ok);
        assert.equal(scan.end, whole.length);
        // A kept header prefix of zeros cannot be told from the zeros after the records.
        assert.equal(scan.tornAt, kept.every((b) => b === 0) ? undefined : whole.length);
        assert.equal(scan.frames.length, ps.length - 1);
      }
    }),
  );
});

test('damage before the last frame refuses, naming the frame; it is never read as a torn tail', () => {
  fc.assert(
    fc.property(
      payloads.filter((ps) => ps.length >= 2),
      fc.nat(),
      fc.nat(),
      (ps, which, bit) => {
        const frames = ps.map(encodeFrame);
        const victim = which % (frames.length - 1);
        const offset = frames.slice(0, victim).reduce((n, f) => n + f.length, 0);
        const bytes = Buffer.concat(frames);
        const pos = offset + FRAME_HEADER + (frames[victim]!.length > FRAME_HEADER ? bit % (frames[victim]!.length - FRAME_HEADER) : 0);
        if (frames[victim]!.length === FRAME_HEADER) bytes[offset + 4]! ^= 1;
        else bytes[pos]! ^= 1 << (bit % 8);
        const scan = scanFrames(bytes);
        assert.equal(scan.ok, false);
        assert.equal(!scan.ok && scan.corruptAt, offset);
        assert.equal(scan.frames.length, victim, 'the good frames before it are still read');
      },
    ),
  );
});

test('a damaged length that runs past the end, over whole frames, is damage, not a torn tail', () => {
  const records = Array.from({ length: 5 }, (_, i) => encodeFrame(Buffer.from(JSON.stringify({ seq: i, type: 'decision' }))));
  for (const tail of [Buffer.alloc(0), Buffer.alloc(4096)])
    for (const length of [0x00a00000, records[2]!.length * 10]) {
      const bytes = Buffer.concat([...records, tail]);
      const offset = records[0]!.length + records[1]!.length;
      bytes.writeUInt32BE(length, offset);
      const scan = scanFrames(bytes);
      assert.equal(scan.ok, false, `length ${length}, ${tail.length} zeros after`);
      assert.equal(!scan.ok && scan.corruptAt, offset);
      assert.equal(scan.frames.length, 2, 'the frames before it are still read');
    }
  // The last frame's length damaged: nothing whole follows, so it reads as a torn tail (never acknowledged).
  const bytes = Buffer.concat(records);
  bytes.writeUInt32BE(0x00a00000, bytes.length - records[4]!.length);
  const scan = scanFrames(bytes);
  assert.ok(scan.ok && scan.tornAt === bytes.length - records[4]!.length);
});

test('preallocated zeros end the records; data after them is damage', () => {
  const frames = Buffer.concat([encodeFrame(Buffer.from('one')), encodeFrame(Buffer.from('two'))]);
  const scan = scanFrames(Buffer.concat([frames, Buffer.alloc(4096)]));
  assert.ok(scan.ok && scan.tornAt === undefined);
  assert.equal(scan.end, frames.length);
  assert.equal(scan.frames.length, 2);
  const stray = Buffer.concat([frames, Buffer.alloc(100), encodeFrame(Buffer.from('three')), Buffer.alloc(100)]);
  const bad = scanFrames(stray);
  assert.equal(bad.ok, false);
  assert.equal(!bad.ok && bad.corruptAt, frames.length);
  assert.match(!bad.ok ? bad.reason : '', /after the end/);
  assert.throws(() => encodeFrame(new Uint8Array(0)), RangeError);
});
