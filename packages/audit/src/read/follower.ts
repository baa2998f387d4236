/**
 * Reading records from the log's files, without the daemon and without the writer's lock: from the
 * start, or following the log live as it grows and rotates. Damage stops the reader with a
 * LogCorruptError (`audit verify` explains it); a partial frame at the end is a write in progress
 * and is read once it is whole.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { crc32c } from '../crc32c.js';
import { FRAME_HEADER, MAX_FRAME, walkFrames } from '../frames.js';
import { leafHashHex } from '../merkle.js';
import type { LogPosition } from '../log/audit-log.js';
import { LogCorruptError } from '../log/errors.js';
import { readBase } from '../log/base.js';
import { firstSeqOf, listSegments, manifestName, readFileFrom } from '../log/files.js';
import { parseHeader, parseJsonObject, readManifest } from '../log/manifest.js';
import { mayReach } from '../log/time-bound.js';

export interface StoredRecord {
  seq: number;
  record: Record<string, unknown>;
  /** The canonical bytes as stored (what the leaf hash covers). */
  payload: Buffer;
  segment: string;
  offset: number;
}

/** How much a bounded poll reads at a time. */
const READ_CHUNK = 1 << 20;

export class LogFollower {
  private segment?: string;
  private offset = 0;
  private seq = 0;

  /**
   * From the start of the log, or from a position `AuditLog.tip()` gave (the record there must be
   * `from.seq`). With `since` (epoch ms), sealed segments whose manifest says every record is older
   * are skipped unread: records before `since` may still come back, none at or after it is missed.
   */
  constructor(
    readonly dir: string,
    from?: LogPosition,
    private readonly since?: number,
  ) {
    if (from) {
      this.segment = from.segment;
      this.offset = from.offset;
      this.seq = from.seq;
    }
  }

  /**
   * Every whole record written since the last call, or the first `max` of them (then only about
   * as many bytes as they need are read: a reader far behind does not load whole segments).
   */
  poll(max = Infinity): StoredRecord[] {
    const out: StoredRecord[] = [];
    for (;;) {
      const segments = listSegments(this.dir);
      if (segments.length === 0) throw new Error(`no audit log in ${this.dir} (no segment files)`);
      if (!this.segment) {
        // A compacted log goes on from its base: the first live segment is where the base ends.
        const floor = readBase(this.dir)?.base.size ?? 0;
        this.segment = segments.find((name) => firstSeqOf(name) >= floor) ?? segments[segments.length - 1]!;
        this.seq = floor;
      }
      const index = segments.indexOf(this.segment);
      if (index === -1) {
        const seq = this.seq;
        const archive = readBase(this.dir)?.base.archives.find((a) => a.first_seq <= seq && seq < a.first_seq + a.count);
        throw new LogCorruptError(
          this.segment,
          this.offset,
          archive ? `the segment being read was compacted into ${join(archive.dir, archive.file)}` : 'the segment being read disappeared',
        );
      }
      const next = segments[index + 1];
      if (next && this.skippable(this.segment)) {
        this.segment = next;
        continue;
      }
      this.readNew(out, max);
      if (out.length >= max) return out;
      // Move on only once this segment is sealed: then nothing more will be written to it.
      if (!next || !existsSync(join(this.dir, manifestName(this.segment)))) return out;
      // What was appended before the seal, since the read above; then the segment must end here.
      this.readNew(out, max);
      if (out.length >= max) return out;
      if (this.offset !== statSync(join(this.dir, this.segment)).size)
        throw new LogCorruptError(this.segment, this.offset, 'a sealed segment ends in a partial or damaged frame', this.seq);
      this.segment = next;
      this.offset = 0;
    }
  }

  /** Is the segment, not yet entered, sealed with every record before `since`? Then it is passed over. */
  private skippable(segment: string): boolean {
    if (this.since === undefined || this.offset !== 0) return false;
    const m = readManifest(this.dir, segment);
    if (typeof m === 'string' || m.first_seq !== this.seq || mayReach(m.max_time, this.since)) return false;
    this.seq += m.count;
    return true;
  }

  /** Where the last record returned ends: a position `new LogFollower(dir, position)` resumes from. */
  position(): LogPosition | undefined {
    return this.segment === undefined ? undefined : { seq: this.seq, segment: this.segment, offset: this.offset };
  }

  /** This segment's records from the current offset: until `max` are read or its data ends. */
  private readNew(out: StoredRecord[], max: number): void {
    // A bounded read can stop inside the segment: read on, or the rest would be skipped.
    while (out.length < max) {
      const from = this.offset;
      if (!this.readChunk(out, max) || this.offset === from) return;
    }
  }

  /** One read of the segment; true when it was cut by the bound (more may follow in the file). */
  private readChunk(out: StoredRecord[], max: number): boolean {
    const name = this.segment!;
    const base = this.offset;
    // Bounded reads when only some records are wanted; a frame larger than the bound is read whole.
    let limit = max === Infinity ? Infinity : READ_CHUNK;
    let bytes = readFileFrom(join(this.dir, name), base, limit);
    if (bytes && bytes.length === limit && bytes.length >= FRAME_HEADER) {
      const first = bytes.readUInt32BE(0);
      if (first > 0 && first <= MAX_FRAME && FRAME_HEADER + first > limit)
        bytes = readFileFrom(join(this.dir, name), base, (limit = FRAME_HEADER + first));
    }
    if (!bytes) throw new LogCorruptError(name, base, 'the segment shrank while being read');
    const cut = bytes.length === limit;
    for (const step of walkFrames(bytes)) {
      if (out.length >= max) return cut;
      // A frame cut by the bound reads as torn too: not read yet, like one still being written.
      if (step.kind === 'torn') return cut;
      const at = base + step.offset;
      if (step.kind === 'impossible') throw new LogCorruptError(name, at, step.reason, this.seq);
      if (!step.crcOk) throw new LogCorruptError(name, at, 'checksum mismatch', this.seq);
      const end = at + step.payload.length + 8;
      if (at === 0) {
        const header = parseHeader(step.payload);
        if (!header || header.first_seq !== this.seq)
          throw new LogCorruptError(name, 0, 'a segment is missing, out of order or has no header');
      } else {
        const record = parseJsonObject(step.payload);
        if (!record || record.seq !== this.seq) throw new LogCorruptError(name, at, `expected record seq ${this.seq}`, this.seq);
        out.push({ seq: this.seq++, record, payload: Buffer.from(step.payload), segment: name, offset: at });
      }
      this.offset = end;
    }
    return cut;
  }
}

/** The leaf hash (hex) of the record whose frame starts at `offset` in `segment`, if a whole, intact one does. */
export function leafAt(dir: string, segment: string, offset: number): string | undefined {
  let fd: number;
  try {
    fd = openSync(join(dir, segment), 'r');
  } catch {
    return undefined;
  }
  try {
    const header = Buffer.alloc(FRAME_HEADER);
    if (readSync(fd, header, 0, FRAME_HEADER, offset) !== FRAME_HEADER) return undefined;
    const length = header.readUInt32BE(0);
    if (length === 0 || length > MAX_FRAME) return undefined;
    const payload = Buffer.alloc(length);
    if (readSync(fd, payload, 0, length, offset + FRAME_HEADER) !== length || crc32c(payload) !== header.readUInt32BE(4)) return undefined;
    return leafHashHex(payload);
  } finally {
    closeSync(fd);
  }
}

/** Every record of the log, in order. */
export function readRecords(dir: string): StoredRecord[] {
  return new LogFollower(dir).poll();
}

/**
 * Visit every record of the log in order, read a batch at a time: a long log is never held whole.
 * With `since` (epoch ms), sealed segments older than it are passed over (see `LogFollower`); the
 * visitor still filters by time, as records just before `since` may come.
 */
export function eachRecord(dir: string, visit: (r: StoredRecord) => void, since?: number, batch = 10_000): void {
  const follower = new LogFollower(dir, undefined, since);
  for (let records = follower.poll(batch); records.length > 0; records = follower.poll(batch)) for (const r of records) visit(r);
}
