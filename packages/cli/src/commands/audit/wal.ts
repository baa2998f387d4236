/** faramesh audit wal inspect: the log's files at a glance, for debugging the log itself (`audit verify` checks it). */
import { DPR_VERSION, inspectLog, type LogInspection } from '@faramesh/audit';
import { makeOut, table } from '../../output.js';
import { walDir, type AuditPathOptions } from './paths.js';

export interface WalInspectOptions extends AuditPathOptions {
  format: 'text' | 'json';
  noColor?: boolean;
}

export function walInspectCmd(o: WalInspectOptions): number {
  const out = makeOut(o.noColor);
  let w: LogInspection;
  try {
    w = inspectLog(walDir(o));
  } catch (e) {
    out.error(out.fail((e as Error).message));
    return 1;
  }
  const damaged = w.segments.some((s) => s.problem !== undefined) || w.snapshot === 'damaged';
  if (o.format === 'json') {
    out.print(JSON.stringify(w, null, 2));
    return damaged ? 1 : 0;
  }
  const key = w.checkpoint?.key.split('+').slice(0, 2).join('+');
  const rows: [string, string][] = [
    ['directory', w.dir],
    ['format', `${w.format} (decision records: ${DPR_VERSION})`],
    ['segments', `${w.segments.length} (${w.segments.filter((s) => s.state === 'sealed').length} sealed)`],
    ['records', w.records.toLocaleString('en-US')],
    [
      'compacted',
      w.compacted
        ? `the first ${w.compacted.records.toLocaleString('en-US')} records (${w.compacted.segments} segments) in ${w.compacted.archives} archive file(s) in ${w.compacted.archive_dir}`
        : 'no',
    ],
    ['size', `${(w.bytes / 1048576).toFixed(1)} MiB (the active segment is preallocated ahead of its records)`],
    ['last record', w.last ? `seq ${w.last.seq} · ${w.last.type} ${w.last.id} · ${w.last.time}` : '—'],
    ['checkpoint', w.checkpoint ? `seq ${w.checkpoint.seq} · tree size ${w.checkpoint.size} · ${w.checkpoint.time}` : 'none'],
    ['signing key', key ?? '—'],
    [
      'snapshot',
      w.snapshot === null
        ? 'none'
        : w.snapshot === 'damaged'
          ? 'DAMAGED (the next open scans the whole log)'
          : `${w.snapshot.size} records`,
    ],
    [
      'writer',
      w.writer ? `pid ${w.writer.pid}${w.writer.alive ? '' : ' (not running: a stale lock, taken over on the next open)'}` : 'none',
    ],
  ];
  for (const [k, v] of rows) out.print(`${`${k}:`.padEnd(14)}${v}`);
  out.print('');
  out.print(
    table(
      ['SEGMENT', 'STATE', 'FIRST SEQ', 'RECORDS', 'BYTES', 'ROOT / PROBLEM'],
      w.segments.map((s) => [
        s.name,
        s.state,
        String(s.first_seq),
        String(s.records),
        String(s.bytes),
        s.problem ? `! ${s.problem}` : (s.root?.slice(0, 16) ?? ''),
      ]),
    ),
  );
  return damaged ? 1 : 0;
}
