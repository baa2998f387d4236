/** Test helper: rewrite one record of a log on disk the way an attacker (or bad hardware) would. */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson } from '@faramesh/protocol';
import { encodeTextFrame, FRAME_HEADER, walkFrames } from '../src/index.js';

export interface Located {
  segment: string;
  offset: number;
  record: Record<string, unknown>;
}

/** Find record `seq` on disk. */
export function locate(dir: string, seq: number): Located {
  for (const segment of readdirSync(dir).filter((f) => f.endsWith('.wal'))) {
    for (const step of walkFrames(readFileSync(join(dir, segment)))) {
      if (step.kind !== 'frame') continue;
      const record = JSON.parse(step.payload.toString()) as Record<string, unknown>;
      if (record.seq === seq && 'type' in record) return { segment, offset: step.offset, record };
    }
  }
  throw new Error(`no record ${seq}`);
}

/**
 * Replace record `seq` with `edit(record)`. With `fixCrc` the frame is re-encoded (a competent
 * attacker); without, the new bytes keep the old checksum (an editor or a bit flip).
 */
export function rewrite(dir: string, seq: number, edit: (r: Record<string, unknown>) => Record<string, unknown>, fixCrc = true): Located {
  const at = locate(dir, seq);
  const path = join(dir, at.segment);
  const bytes = readFileSync(path);
  const length = bytes.readUInt32BE(at.offset);
  const old = bytes.subarray(at.offset, at.offset + FRAME_HEADER + length);
  const { frame } = encodeTextFrame(canonicalJson(edit(structuredClone(at.record))));
  if (!fixCrc) old.copy(frame, 4, 4, 8);
  writeFileSync(path, Buffer.concat([bytes.subarray(0, at.offset), frame, bytes.subarray(at.offset + old.length)]));
  return at;
}
