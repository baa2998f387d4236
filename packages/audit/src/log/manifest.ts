/** Segment headers and the manifests that seal segments: what makes a sealed segment immutable. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson } from '@faramesh/protocol';
import { encodeFrame } from '../frames.js';
import { manifestName, segmentName, writeDurable } from './files.js';
import { isTimeBound } from './time-bound.js';

export const WAL_FORMAT = 'faramesh-wal/1';

export interface SegmentManifest {
  format: typeof WAL_FORMAT;
  segment: string;
  first_seq: number;
  count: number;
  /** The log's Merkle root (hex) at the segment's end: the tree head over every record up to its last. */
  root: string;
  /** SHA-256 (hex) and length of the sealed file. */
  sha256: string;
  bytes: number;
  /**
   * The latest record `time` in the segment (canonical UTC): readers of a recent window skip the
   * segment when it is older. Absent when a record's time could not be read, or in logs from
   * before it was kept; `audit verify` checks it against the records.
   */
  max_time?: string;
}

export const sha256hex = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

/** A new segment appears whole or not at all: its header is written to a temp file, fsynced, renamed. */
export function createSegment(dir: string, firstSeq: number): { name: string; headerBytes: number } {
  const name = segmentName(firstSeq);
  const header = encodeFrame(Buffer.from(canonicalJson({ format: WAL_FORMAT, first_seq: firstSeq })));
  writeDurable(dir, name, header);
  return { name, headerBytes: header.length };
}

export function writeManifest(dir: string, manifest: SegmentManifest): void {
  writeDurable(dir, manifestName(manifest.segment), canonicalJson(manifest));
}

/** The manifest of a sealed segment, or a reason it cannot be used. */
export function readManifest(dir: string, segment: string): SegmentManifest | string {
  let m: Partial<SegmentManifest>;
  try {
    m = JSON.parse(readFileSync(join(dir, manifestName(segment)), 'utf8')) as Partial<SegmentManifest>;
  } catch {
    return 'the sealed segment has no readable manifest';
  }
  const ok =
    m.format === WAL_FORMAT &&
    m.segment === segment &&
    Number.isSafeInteger(m.first_seq) &&
    Number.isSafeInteger(m.count) &&
    Number.isSafeInteger(m.bytes) &&
    typeof m.root === 'string' &&
    typeof m.sha256 === 'string' &&
    (m.max_time === undefined || isTimeBound(m.max_time));
  return ok ? (m as SegmentManifest) : 'the manifest is malformed';
}

export function parseJsonObject(payload: Buffer | string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A segment's header frame payload: its format and first sequence number. */
export function parseHeader(payload: Buffer | undefined): { first_seq: number } | undefined {
  const h = payload && parseJsonObject(payload);
  return h && h.format === WAL_FORMAT && Number.isSafeInteger(h.first_seq) ? { first_seq: h.first_seq as number } : undefined;
}
