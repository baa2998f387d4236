/**
 * Segments read in pieces through a few reused buffers. Memory touched for the first time is slow
 * (on a VM, microseconds a page, once when the file is read into it and again when it is first
 * read): reading each segment, up to 64 MiB, into fresh memory was a third of `audit verify`.
 *
 * A window piece ends at a clean cut: every frame before the cut lies whole in the window, and the
 * frame at the cut starts with a non-zero length, also in the window. A walk over the window's
 * frames up to the cut judges each one as a walk over the whole segment would (a frame followed by
 * data is never torn). Whatever ends the records — zeros, a torn or an impossible frame — is in the
 * final piece, which holds the rest of the segment whole, so it is judged as before.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { FRAME_HEADER, frameRuns, MAX_FRAME } from '../frames.js';
import type { SegmentSource } from './sources.js';

/** Bytes read per window; a rest up to twice this is read whole, as the final piece. */
export const WINDOW = 1 << 20;

export interface Piece {
  /** The source, by its index in the log's sources. */
  segment: number;
  /** The segment's bytes from `base`: the whole window (the cut's header included), or the rest of the segment. */
  bytes: Buffer;
  base: number;
  /** A window's cut, in `bytes`: the frames starting before it are this piece's. Undefined for the final piece. */
  stop?: number;
  first: boolean;
  /** With the final piece: what the whole segment hashes to (when it was asked for) and its length. */
  digest?: SegmentDigest;
}

export interface SegmentDigest {
  sha256?: string;
  length: number;
}

/** A few buffers of one capacity, handed out and given back; larger requests get buffers of their own. */
export class BufferSlots {
  private readonly free: Buffer[] = [];
  private readonly pooled = new WeakSet<ArrayBufferLike>();

  constructor(
    readonly capacity: number,
    private readonly alloc: (size: number) => Buffer = Buffer.allocUnsafeSlow,
  ) {}

  /** A buffer of at least `size` bytes (its first `size` are the ones to use). */
  take(size: number): Buffer {
    if (size > this.capacity) return this.alloc(size);
    const slot = this.free.pop() ?? this.alloc(this.capacity);
    this.pooled.add(slot.buffer);
    return slot;
  }

  /** Give back what `take` handed out (once: a second give of the same buffer is ignored). */
  give(bytes: Buffer): void {
    if (this.pooled.delete(bytes.buffer)) this.free.push(Buffer.from(bytes.buffer, 0, this.capacity));
  }
}

/** One segment's pieces, read in order. */
export class SegmentPieces {
  private readonly fd: number;
  private readonly size: number;
  private readonly hash?: Hash;
  private pos = 0;
  private done = false;

  constructor(
    private readonly src: SegmentSource,
    private readonly index: number,
    private readonly slots: BufferSlots,
    /** Hash the segment (for a sealed one's manifest). */
    hash: boolean,
    private readonly window = WINDOW,
  ) {
    this.fd = openSync(src.path, 'r');
    try {
      // A live segment is read to its size now: what is appended later is not read.
      this.size = src.length ?? fstatSync(this.fd).size;
    } catch (e) {
      closeSync(this.fd);
      throw e;
    }
    if (hash) this.hash = createHash('sha256');
  }

  /** The next piece, or undefined after the final one (the file is closed then). */
  next(): Piece | undefined {
    if (this.done) return undefined;
    const first = this.pos === 0;
    const rest = this.size - this.pos;
    if (rest > this.slots.capacity) {
      const slot = this.slots.take(this.window);
      const n = this.read(slot, this.window);
      const stop = n === this.window ? cleanCut(slot, n) : 0;
      if (stop > 0) {
        const piece: Piece = { segment: this.index, bytes: slot.subarray(0, n), base: this.pos, stop, first };
        this.hash?.update(slot.subarray(0, stop));
        this.pos += stop;
        return piece;
      }
      // No whole frame followed by data fits (a large frame, the end of the records, a file cut short).
      this.slots.give(slot);
    }
    const slot = this.slots.take(rest);
    const bytes = slot.subarray(0, this.read(slot, rest));
    this.hash?.update(bytes);
    this.done = true;
    closeSync(this.fd);
    const digest: SegmentDigest = { length: this.pos + bytes.length, ...(this.hash ? { sha256: this.hash.digest('hex') } : {}) };
    return { segment: this.index, bytes, base: this.pos, first, digest };
  }

  /** Give up on the rest (an error elsewhere). */
  close(): void {
    if (!this.done) closeSync(this.fd);
    this.done = true;
  }

  private read(into: Buffer, length: number): number {
    let done = 0;
    for (let n = 1; done < length && n > 0; done += n) n = readSync(this.fd, into, done, length - done, this.src.offset + this.pos + done);
    return done;
  }
}

/** The last clean cut in the first `n` bytes (0 when there is none past the start). */
function cleanCut(bytes: Buffer, n: number): number {
  let cut = 0;
  for (let at = 0; n - at >= FRAME_HEADER;) {
    const length = bytes.readUInt32BE(at);
    if (length === 0 || length > MAX_FRAME) break;
    const end = at + FRAME_HEADER + length;
    if (n - end < FRAME_HEADER || bytes.readUInt32BE(end) === 0) break;
    cut = at = end;
  }
  return cut;
}

/** A piece's runs of `per` frames from `from`: the last ends at the cut, or (in the final piece) wherever the records end. */
export function pieceRuns(piece: Piece, from: number, per: number): { from: number; stop: number }[] {
  const cut = piece.stop;
  const starts = frameRuns(cut === undefined ? piece.bytes : piece.bytes.subarray(0, cut), from, per);
  return starts.map((start, k) => ({ from: start, stop: starts[k + 1] ?? cut ?? Infinity })).filter((r) => r.from < r.stop);
}
