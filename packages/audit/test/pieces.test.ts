import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLog, FRAME_HEADER } from '../src/index.js';
import { BufferSlots, SegmentPieces, type Piece } from '../src/verify/pieces.js';
import { decision, policyApplied, tmp } from './helpers.js';

const dir = tmp();
{
  const { log } = await AuditLog.open(dir, { maxSegmentBytes: 20_000 });
  await log.append(policyApplied());
  for (let i = 0; i < 60; i++) await log.append(decision(['a', 'b'][i % 2]!, i));
  await log.close();
}
const segments = readdirSync(dir).filter((f) => f.endsWith('.wal'));

function readAll(file: string, slots: BufferSlots, window: number): { pieces: Piece[]; copies: Buffer[] } {
  const path = join(dir, file);
  const reader = new SegmentPieces({ name: file, firstSeq: 0, path, offset: 0, archived: false }, 0, slots, true, window);
  const pieces: Piece[] = [];
  const copies: Buffer[] = [];
  for (let p = reader.next(); p; p = reader.next()) {
    pieces.push(p);
    copies.push(Buffer.from(p.bytes.subarray(0, p.stop ?? p.bytes.length)));
    slots.give(p.bytes);
  }
  return { pieces, copies };
}

test('a segment read in pieces: windows end at clean cuts, together they are the file, and the digest is its hash', () => {
  for (const file of segments) {
    const bytes = readFileSync(join(dir, file));
    const { pieces, copies } = readAll(file, new BufferSlots(6000), 3000);
    assert.ok(pieces.length > 3, `${file}: ${pieces.length} pieces`);
    assert.deepEqual(Buffer.concat(copies), bytes);
    let base = 0;
    for (const [i, p] of pieces.entries()) {
      assert.equal(p.base, base);
      assert.equal(p.first, i === 0);
      if (p.stop === undefined) {
        assert.equal(i, pieces.length - 1, 'only the last piece runs to the end');
        continue;
      }
      // The cut starts a frame with a non-zero length, inside the window.
      assert.ok(p.stop + FRAME_HEADER <= p.bytes.length);
      assert.ok(bytes.readUInt32BE(base + p.stop) > 0);
      base += p.stop;
    }
    assert.deepEqual(pieces.at(-1)!.digest, { sha256: createHash('sha256').update(bytes).digest('hex'), length: bytes.length });
  }
});

test('one buffer serves every piece; a rest larger than it gets one of its own', () => {
  const slots = new BufferSlots(6000);
  const { pieces } = readAll(segments[0]!, slots, 3000);
  const windows = pieces.filter((p) => p.stop !== undefined);
  assert.ok(windows.length > 1);
  assert.ok(windows.every((p) => p.bytes.buffer === windows[0]!.bytes.buffer));
  // A window smaller than a record: past the header no cut is possible, and the rest of the segment is read whole.
  const size = readFileSync(join(dir, segments[0]!)).length;
  const { pieces: rest } = readAll(segments[0]!, new BufferSlots(1000), 500);
  assert.equal(rest.length, 2);
  const last = rest[1]!;
  assert.equal(last.base + last.bytes.length, size);
  assert.ok(last.bytes.length > 1000 && last.bytes.buffer !== rest[0]!.bytes.buffer);
});

test('a buffer given back twice is handed out once', () => {
  const slots = new BufferSlots(16);
  const a = slots.take(8);
  slots.give(a);
  slots.give(a);
  assert.notEqual(slots.take(8).buffer, slots.take(8).buffer);
});
