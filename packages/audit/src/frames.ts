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

export type FrameScan =
  | { ok: true; frames: { offset: number; payload: Buffer }[]; tornAt?: number }
  | { ok: false; frames: { offset: number; payload: Buffer }[]; corruptAt: number; reason: string };

/** Read every frame of a segment body. A bad frame followed by more bytes is corruption; at the very end, a torn write. */
export function scanFrames(bytes: Buffer, start = 0): FrameScan {
  const frames: { offset: number; payload: Buffer }[] = [];
  let at = start;
  while (at < bytes.length) {
    const rest = bytes.length - at;
    if (rest < FRAME_HEADER) return { ok: true, frames, tornAt: at };
    const length = bytes.readUInt32BE(at);
    const crc = bytes.readUInt32BE(at + 4);
    if (length > MAX_FRAME) return damaged(frames, at, `frame length ${length} is impossible`, bytes.length);
    const end = at + FRAME_HEADER + length;
    if (end > bytes.length) return { ok: true, frames, tornAt: at };
    const payload = bytes.subarray(at + FRAME_HEADER, end);
    if (crc32c(payload) !== crc) {
      // The last frame, checksum wrong: the crash tore it mid-write.
      if (end === bytes.length) return { ok: true, frames, tornAt: at };
      return { ok: false, frames, corruptAt: at, reason: 'checksum mismatch' };
    }
    frames.push({ offset: at, payload });
    at = end;
  }
  return { ok: true, frames };
}

function damaged(frames: { offset: number; payload: Buffer }[], at: number, reason: string, length: number): FrameScan {
  // An impossible length in the final bytes may still be a torn header; anything after it is not.
  return at + FRAME_HEADER >= length ? { ok: true, frames, tornAt: at } : { ok: false, frames, corruptAt: at, reason };
}
