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
  if (length > MAX_FRAME) throw new RangeError(`a frame of ${length} bytes exceeds ${MAX_FRAME}`);
  const frame = Buffer.allocUnsafe(FRAME_HEADER + length);
  frame.write(text, FRAME_HEADER, 'utf8');
  const payload = frame.subarray(FRAME_HEADER);
  frame.writeUInt32BE(length, 0);
  frame.writeUInt32BE(crc32c(payload), 4);
  return { frame, payload };
}

export function encodeFrame(payload: Uint8Array): Buffer {
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

/** One step of reading frames: a whole frame (its checksum right or not), a torn end, or bytes that cannot be a frame. */
export type FrameStep =
  | { kind: 'frame'; offset: number; payload: Buffer; crcOk: boolean }
  | { kind: 'torn'; offset: number }
  | { kind: 'impossible'; offset: number; reason: string };

/**
 * Walk the frames of a segment body. A frame with a wrong checksum is still yielded (the verifier
 * reports it and reads on); a length that cannot be right ends the walk, as `torn` when it is in
 * the final bytes (a crash cut the header) and `impossible` otherwise.
 */
export function* walkFrames(bytes: Buffer, start = 0): Generator<FrameStep> {
  let at = start;
  while (at < bytes.length) {
    if (bytes.length - at < FRAME_HEADER) return yield { kind: 'torn', offset: at };
    const length = bytes.readUInt32BE(at);
    if (length > MAX_FRAME) {
      if (at + FRAME_HEADER >= bytes.length) return yield { kind: 'torn', offset: at };
      return yield { kind: 'impossible', offset: at, reason: `frame length ${length} is impossible` };
    }
    const end = at + FRAME_HEADER + length;
    if (end > bytes.length) return yield { kind: 'torn', offset: at };
    const payload = bytes.subarray(at + FRAME_HEADER, end);
    yield { kind: 'frame', offset: at, payload, crcOk: crc32c(payload) === bytes.readUInt32BE(at + 4) };
    at = end;
  }
}

export type FrameScan = { ok: true; frames: Frame[]; tornAt?: number } | { ok: false; frames: Frame[]; corruptAt: number; reason: string };

/** Read every frame of a segment body. A bad frame followed by more bytes is corruption; at the very end, a torn write. */
export function scanFrames(bytes: Buffer, start = 0): FrameScan {
  const frames: Frame[] = [];
  for (const step of walkFrames(bytes, start)) {
    if (step.kind === 'torn') return { ok: true, frames, tornAt: step.offset };
    if (step.kind === 'impossible') return { ok: false, frames, corruptAt: step.offset, reason: step.reason };
    if (!step.crcOk) {
      // The last frame, checksum wrong: the crash tore it mid-write.
      if (step.offset + FRAME_HEADER + step.payload.length === bytes.length) return { ok: true, frames, tornAt: step.offset };
      return { ok: false, frames, corruptAt: step.offset, reason: 'checksum mismatch' };
    }
    frames.push({ offset: step.offset, payload: step.payload });
  }
  return { ok: true, frames };
}
