/**
 * faramesh audit export [--from] [--to] [--format json|jsonl|csv]: records in a time window, read-only.
 * `jsonl` writes each record's stored canonical bytes, so a consumer can recompute every hash.
 */
import { stringify } from 'csv-stringify/sync';
import { inWindow, leafHash, readRecords, type StoredRecord } from '@faramesh/audit';
import { makeOut } from '../../output.js';
import { timeBound, walDir, type AuditPathOptions } from './paths.js';

export interface ExportOptions extends AuditPathOptions {
  from?: string;
  to?: string;
  format: 'json' | 'jsonl' | 'csv';
  noColor?: boolean;
}

const COLUMNS = [
  'seq',
  'id',
  'time',
  'type',
  'agent_id',
  'tool',
  'effect',
  'code',
  'rule_ref',
  'policy_version',
  'args_hash',
  'prev_hash',
] as const;

export function exportCmd(o: ExportOptions): number {
  const out = makeOut(o.noColor);
  let records: StoredRecord[];
  let from: number | undefined;
  let to: number | undefined;
  try {
    from = timeBound(o.from, '--from');
    to = timeBound(o.to, '--to');
    records = readRecords(walDir(o)).filter((r) => inWindow(r.record.time, { from, to }));
  } catch (e) {
    out.error(out.fail(`${(e as Error).message}${(e as Error).name === 'LogCorruptError' ? ' (run faramesh audit verify)' : ''}`));
    return 1;
  }
  const write = (s: string) => process.stdout.write(s);
  if (o.format === 'jsonl') for (const r of records) write(`${r.payload.toString('utf8')}\n`);
  else if (o.format === 'json') {
    const meta = {
      format: 'faramesh-audit-export/1',
      exported_at: new Date().toISOString(),
      from: o.from ?? null,
      to: o.to ?? null,
      count: records.length,
    };
    write(`${JSON.stringify({ ...meta, records: records.map((r) => r.record) }, null, 2)}\n`);
  } else {
    const rows = records.map((r) => {
      const rest = Object.fromEntries(Object.entries(r.record).filter(([k]) => !(COLUMNS as readonly string[]).includes(k)));
      return [...COLUMNS.map((c) => cell(r.record[c])), Buffer.from(leafHash(r.payload)).toString('hex'), JSON.stringify(rest)];
    });
    write(stringify(rows, { header: true, columns: [...COLUMNS, 'leaf_hash', 'detail'] }));
  }
  return 0;
}

const cell = (v: unknown) => (v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));
