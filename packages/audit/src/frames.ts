/**
 * Log segments hold frames: [u32 length][u32 CRC-32C of the payload][payload], big-endian. Reading
 * tells a torn final frame (an append cut short by a crash: never acknowledged, safe to drop)
 * apart from damage anywhere else, which must stop the log from opening — good data is never
 * truncated.
 */
import { crc32c } from './crc32c.js';

export const FRAME_HEADER = 8;
/** A frame larger than this is damage, not data (a record is a few KiB). */
export const MAX_FRAME = 16 << 20;

/** Frame a UTF-8 text with one copy: the text is encoded straight into the frame. */
export function encodeTextFrame(text: string): { frame: Buffer; payload: Buffer } {
  const length = Buffer.byteLength(text, 'utf8');
  if (length === 0) throw new RangeError('a frame cannot be empty: a zero length marks the end of the records');
  if (length > MAX_FRAME) throw new RangeError(`a frame of ${length} bytes exceeds ${MAX_FRAME}`);
  const frame = Buffer.allocUnsafe(FRAME_HEADER + length);
  frame.write(text, FRAME_HEADER, 'utf8');
  const payload = frame.subarray(FRAME_HEADER);
  frame.writeUInt32BE(length, 0);
  frame.writeUInt32BE(crc32c(payload), 4);
  return { frame, payload };
}

export function encodeFrame(payload: Uint8Array): Buffer {
  if (payload.length === 0) throw new RangeError('a frame cannot be empty: a zero length marks the end of the records');
  if (payload.length > MAX_FRAME) throw new RangeError(`a frame of ${payload.length} bytes exceeds ${MAX_FRAME}`);
  const frame = Buffer.allocUnsafe(FRAME_HEADER + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  frame.writeUInt32BE(crc32c(payload), 4);
  frame.set(payload, FRAME_HEADER);
  return frame;
}

export interface Frame {
  offset: number;
  payload: Buffer;
}

/** Where the byte after a frame is. */
export const frameEnd = (frame: Frame): number => frame.offset + FRAME_HEADER + frame.payload.length;

/** One step of reading frames: a whole frame (its checksum right or not), a torn end, or bytes that cannot be a frame. */
export type FrameStep =
  | { kind: 'frame'; offset: number; payload: Buffer; crcOk: boolean }
  | { kind: 'torn'; offset: number }
  | { kind: 'impossible'; offset: number; reason: string };

const ZEROS = Buffer.alloc(64 * 1024);

/** True when `bytes` holds nothing but zeros from `from` on: compared natively, a block at a time (an open segment's preallocated tail is a MiB). */
export function zeroFrom(bytes: Buffer, from: number): boolean {
  for (let i = from; i < bytes.length; i += ZEROS.length) {
    const n = Math.min(ZEROS.length, bytes.length - i);
    if (!bytes.subarray(i, i + n).equals(ZEROS.subarray(0, n))) return false;
  }
  return true;
}

/** Where the bytes stop being zeros: the extent of a torn write in a preallocated segment. */
export function dataEnd(bytes: Buffer): number {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return end;
}

/**
 * Walk the frames of a segment body. The active segment is preallocated, so the records end at
 * the first zero header (no frame is empty) and zeros follow to the end of the file.
 *
 * A write cut short by a crash leaves a prefix of its bytes, then zeros or the end of the file: a
 * frame running past the end, or a checksum failure with nothing but zeros after it, is `torn`.
 * A frame with a wrong checksum and data after it is still yielded (the verifier reports it and
 * reads on). A length that cannot be right, or data after the end, is `impossible`.
 */
export function* walkFrames(bytes: Buffer, start = 0, stop = Infinity): Generator<FrameStep> {
  let at = start;
  while (at < bytes.length && at < stop) {
    if (bytes.length - at < FRAME_HEADER) return zeroFrom(bytes, at) ? undefined : yield { kind: 'torn', offset: at };
    const length = bytes.readUInt32BE(at);
    if (length === 0) {
      if (zeroFrom(bytes, at)) return;
      return yield { kind: 'impossible', offset: at, reason: 'data after the end of the records' };
    }
    if (length > MAX_FRAME) {
      if (at + FRAME_HEADER >= bytes.length) return yield { kind: 'torn', offset: at };
      return yield { kind: 'impossible', offset: at, reason: `frame length ${length} is impossible` };
    }
    const end = at + FRAME_HEADER + length;
    if (end > bytes.length) {
      // A write cut short leaves only a prefix of itself: whole frames further on mean this length
      // was damaged, and cutting here would drop them.
      if (wholeFrameAfter(bytes, at + FRAME_HEADER))
        return yield { kind: 'impossible', offset: at, reason: `frame length ${length} runs past the end, over whole frames` };
      return yield { kind: 'torn', offset: at };
    }
    const payload = bytes.subarray(at + FRAME_HEADER, end);
    const crcOk = crc32c(payload) === bytes.readUInt32BE(at + 4);
    if (!crcOk && zeroFrom(bytes, end)) {
      if (wholeFrameAfter(bytes, at + FRAME_HEADER))
        return yield { kind: 'impossible', offset: at, reason: `frame length ${length} runs over whole frames` };
      return yield { kind: 'torn', offset: at };
    }
    yield { kind: 'frame', offset: at, payload, crcOk };
    at = end;
  }
}

/**
 * Whether a whole frame (a plausible length, a matching checksum) starts anywhere from `from` on.
 * A frame's length has a zero first byte (MAX_FRAME is 2^24), and record payloads are JSON text,
 * which holds no zero byte: only offsets at a zero byte, before the zeros that end the data, can
 * start one.
 */
function wholeFrameAfter(bytes: Buffer, from: number): boolean {
  const last = dataEnd(bytes);
  for (let o = bytes.indexOf(0, from); o !== -1 && o + FRAME_HEADER < last; o = bytes.indexOf(0, o + 1)) {
    const length = bytes.readUInt32BE(o);
    const end = o + FRAME_HEADER + length;
    if (
      length > 0 &&
      length <= MAX_FRAME &&
      end <= bytes.length &&
      crc32c(bytes.subarray(o + FRAME_HEADER, end)) === bytes.readUInt32BE(o + 4)
    )
      return true;
  }
  return false;
}

/**
 * Where to split the frames from `start` into runs of `per` frames, found by their lengths alone,
 * so that several readers can walk one segment at once: run i is [starts[i], starts[i + 1]), the
 * last one open-ended. Each start is the end of a frame followed by a non-zero length, which
 * `walkFrames` from `start` passes through too (a frame followed by data is never torn), so the
 * runs' walks together yield exactly the frames of one walk, and whatever ends the records (zeros,
 * a torn or an impossible frame) is met in the last run.
 */
export function frameRuns(bytes: Buffer, start: number, per: number): number[] {
  const starts = [start];
  let at = start;
  let n = 0;
  while (bytes.length - at >= FRAME_HEADER) {
    const length = bytes.readUInt32BE(at);
    if (length === 0 || length > MAX_FRAME) break;
    at += FRAME_HEADER + length;
    if (bytes.length - at < FRAME_HEADER || bytes.readUInt32BE(at) === 0) break;
    if (++n === per) {
      starts.push(at);
      n = 0;
    }
  }
  return starts;
}

export type FrameScan =
  { ok: true; frames: Frame[]; end: number; tornAt?: number } | { ok: false; frames: Frame[]; corruptAt: number; reason: string };

/**
 * Read every frame of a segment body. `end` is where the records end (the next append goes there);
 * a bad frame with data after it is corruption.
 */
export function scanFrames(bytes: Buffer, start = 0): FrameScan {
  const frames: Frame[] = [];
  let end = start;
  for (const step of walkFrames(bytes, start)) {
    if (step.kind === 'torn') return { ok: true, frames, end, tornAt: step.offset };
    if (step.kind === 'impossible') return { ok: false, frames, corruptAt: step.offset, reason: step.reason };
    if (!step.crcOk) return { ok: false, frames, corruptAt: step.offset, reason: 'checksum mismatch' };
    frames.push({ offset: step.offset, payload: step.payload });
    end = frameEnd(step);
  }
  return { ok: true, frames, end };
}
