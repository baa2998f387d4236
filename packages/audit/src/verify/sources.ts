/**
 * What `audit verify` reads: the live segments of the log directory and, with `includeArchived`,
 * the segments a compaction moved into archive files before them. An archive that is missing or
 * does not match its base is a problem, and the live log is then verified from the base alone.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson } from '@faramesh/protocol';
import { ARCHIVE_FORMAT, BASE_FILE, liveSegments, type LogBase } from '../log/base.js';
import { LogCorruptError } from '../log/errors.js';
import { fileSha256, firstSeqOf, manifestName } from '../log/files.js';
import { parseJsonObject, readManifest, type SegmentManifest } from '../log/manifest.js';
import { readSnapshot } from '../log/snapshot.js';
import type { Problem } from './verify.js';

/** An archive's header line (a few hundred bytes per segment) is read from at most this much of it. */
const MAX_HEADER = 4 << 20;

export interface SegmentSource {
  /** As problems name it: the segment's file name, or `<archive>:<segment>` inside an archive. */
  name: string;
  /** The seq its name says it starts at. */
  firstSeq: number;
  path: string;
  offset: number;
  /** Bytes, for a segment inside an archive; a live segment is read to its current end. */
  length?: number;
  archived: boolean;
  /**
   * The last live segment had no manifest when the log was listed: it is the active one, judged as
   * such even if a running daemon seals it while it is read (the bytes read may be fewer than sealed).
   */
  active?: boolean;
}

export interface LogSources {
  sources: SegmentSource[];
  total: number;
  base?: { base: LogBase; text: string };
  /** The archived segments are among the sources (they were asked for and all could be read). */
  archivedIncluded: boolean;
  problems: Problem[];
  /**
   * The records the snapshot counted before anything was listed or read ('damaged', or undefined for
   * none). Read first: a running daemon writes a larger one as it appends, which is no truncation.
   */
  snapshotSize?: number;
  /** Whether there was a snapshot to check the log's end against, and whether it checked out. */
  snapshot: SnapshotState;
}

/**
 * The snapshot as verify found it. It is only an accelerator, so a damaged one fails nothing, but it
 * is what shows records cut from the log's end: without a sound one that check could not be made.
 */
export type SnapshotState = 'ok' | 'missing' | 'damaged';

export interface SourceOptions {
  includeArchived?: boolean;
  /** Where the archive files are (default: where the base says they were written). */
  archiveDir?: string;
}

export function logSources(dir: string, o: SourceOptions = {}): LogSources {
  // Before the segments are listed: every record the snapshot counts is then in a listed segment.
  const snapshot = readSnapshot(dir);
  const found: SnapshotState = snapshot === undefined ? 'missing' : snapshot === 'damaged' ? 'damaged' : 'ok';
  let listed: ReturnType<typeof liveSegments>;
  try {
    listed = liveSegments(dir);
  } catch (e) {
    if (!(e instanceof LogCorruptError)) throw e;
    // A damaged base, or a segment it does not account for, is a problem of this log (exit 1, and a
    // report in JSON), never "no log": a script would read that as nothing logged yet.
    const field = e.segment === BASE_FILE ? 'base' : 'segment';
    const problem = { seq: e.seq ?? 0, segment: e.segment, offset: e.offset, field, reason: e.reason };
    return { sources: [], total: 0, archivedIncluded: false, problems: [problem], snapshot: found };
  }
  const { segments, base } = listed;
  if (segments.length === 0 && !base) throw new Error(`no audit log in ${dir} (no segment files)`);
  const live = segments.map((name, i): SegmentSource => ({
    name,
    firstSeq: firstSeqOf(name),
    path: join(dir, name),
    offset: 0,
    archived: false,
    ...(i === segments.length - 1 && !existsSync(join(dir, manifestName(name))) ? { active: true } : {}),
  }));
  const problems: Problem[] = [];
  let archived: SegmentSource[] = [];
  if (base && o.includeArchived) {
    for (const ref of base.base.archives) {
      // Where --archive says, else where this archive was written (compactions may have used different directories).
      const written = join(ref.dir, ref.file);
      const asked = o.archiveDir !== undefined ? join(o.archiveDir, ref.file) : undefined;
      const opened = openArchive(
        asked !== undefined && (existsSync(asked) || !existsSync(written)) ? asked : written,
        ref,
        base.base.segments,
      );
      if (typeof opened === 'string') {
        problems.push({ seq: ref.first_seq, segment: ref.file, offset: 0, field: 'archive', reason: opened });
        archived = [];
        break;
      }
      archived.push(...opened);
    }
  }
  const sources = [...archived, ...live];
  const total = sources.reduce((n, s) => n + (s.length ?? statSync(s.path).size), 0);
  return {
    sources,
    total,
    ...(base ? { base } : {}),
    archivedIncluded: archived.length > 0,
    problems,
    ...(snapshot && snapshot !== 'damaged' ? { snapshotSize: snapshot.size } : {}),
    snapshot: found,
  };
}

/** The manifest a sealed source must match; undefined for the active segment (the last, unsealed). */
export function sourceManifest(dir: string, src: SegmentSource, last: boolean, base?: LogBase): SegmentManifest | string | undefined {
  if (src.archived) return base!.segments.find((m) => m.segment === src.name.slice(src.name.indexOf(':') + 1))!;
  if (last && (src.active || !existsSync(join(dir, manifestName(src.name))))) return undefined;
  return readManifest(dir, src.name);
}

/** The segments of an archive file, checked against the archive's entry in the base; else why not. */
function openArchive(path: string, ref: LogBase['archives'][number], manifests: readonly SegmentManifest[]): SegmentSource[] | string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    return `the archive file ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): pass --archive <dir> where it is kept`;
  }
  try {
    const size = fstatSync(fd).size;
    if (size !== ref.bytes) return `the archive holds ${size} bytes, the base says ${ref.bytes}`;
    if (fileSha256(path) !== ref.sha256) return 'the archive file no longer matches its SHA-256 in the base';
    // The header line lists the segments (their manifests): it ends at the first newline.
    const head = Buffer.allocUnsafe(Math.min(size, MAX_HEADER));
    const headerEnd = head.subarray(0, readSync(fd, head, 0, head.length, 0)).indexOf(0x0a);
    const header = headerEnd < 0 ? undefined : parseJsonObject(head.subarray(0, headerEnd));
    const expected = manifests.filter((m) => m.first_seq >= ref.first_seq && m.first_seq < ref.first_seq + ref.count);
    if (header?.format !== ARCHIVE_FORMAT || canonicalJson(header.segments) !== canonicalJson(expected))
      return `the archive's header does not list the segments the base says it holds`;
    let offset = headerEnd + 1;
    const out = expected.map((m): SegmentSource => {
      const src = { name: `${ref.file}:${m.segment}`, firstSeq: m.first_seq, path, offset, length: m.bytes, archived: true };
      offset += m.bytes;
      return src;
    });
    return offset === size ? out : 'the archive is longer or shorter than the segments it lists';
  } finally {
    closeSync(fd);
  }
}

/** A source's bytes: the whole live segment as it is now, or the archived segment's range. */
export function readSource(src: SegmentSource, alloc: (size: number) => Buffer = Buffer.allocUnsafe): Buffer {
  const fd = openSync(src.path, 'r');
  try {
    const length = src.length ?? fstatSync(fd).size;
    const bytes = alloc(length);
    let done = 0;
    for (let n = 1; done < length && n > 0; done += n) n = readSync(fd, bytes, done, length - done, src.offset + done);
    return bytes.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}
