/**
 * faramesh audit export [--from] [--to] [--format json|jsonl|csv] [--out FILE] [--include-public-keys]
 * [--include-archived [--archive DIR]]: records in a time window, read-only (with the records a
 * compaction archived, under --include-archived). `jsonl` writes each record's stored canonical bytes, so a
 * consumer can recompute every hash; `--include-public-keys` writes an evidence bundle instead, which
 * `audit verify-bundle` checks offline.
 */
import { stringify } from 'csv-stringify/sync';
import { renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { exportBundle, inWindow, leafHashHex, readArchivedRecords, readRecords, type StoredRecord } from '@faramesh/audit';
import { makeOut, plural, type Out } from '../../output.js';
import { pinnedKeys, readFailure, timeWindow, walDir, type AuditPathOptions } from './paths.js';

export interface ExportOptions extends AuditPathOptions {
  from?: string;
  to?: string;
  format: 'json' | 'jsonl' | 'csv';
  /** Write here instead of to stdout. */
  out?: string;
  /** An evidence bundle instead (bundle.ts): the records with their proof, checkpoint and public keys. */
  includePublicKeys?: boolean;
  /** Also the records compaction moved to archive files (found where they were written, or in `archive`). */
  includeArchived?: boolean;
  archive?: string;
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
  const chunks: string[] = [];
  const write = (s: string) => (o.out ? chunks.push(s) : process.stdout.write(s));
  try {
    ({ from, to } = timeWindow(o.from, o.to));
  } catch (e) {
    // A usage error, as for audit verify.
    out.error(out.fail((e as Error).message));
    return 64;
  }
  try {
    if (o.includePublicKeys) {
      const { verifiers, source } = pinnedKeys(o);
      if (verifiers.length === 0) throw new Error('no pinned key to prove the records with: .faramesh/keys/audit.pub, or --key FILE');
      const { bundle, unsigned } = exportBundle(walDir(o), verifiers, { from, to });
      write(`${JSON.stringify(bundle, null, 2)}\n`);
      out.error(
        out.ok(
          `${plural(bundle.records.length, 'record')} (seq ${bundle.first_seq}–${bundle.first_seq + bundle.records.length - 1}) proven against the checkpoint of tree size ${bundle.tree_size}, keys from ${source}`,
        ),
      );
      if (unsigned > 0) out.error(`! ${plural(unsigned, 'record')} of the window came after that checkpoint and are not in the bundle`);
      return finish(o, chunks, out);
    }
    const archived = o.includeArchived ? readArchivedRecords(walDir(o), o.archive === undefined ? undefined : resolve(o.archive)) : [];
    records = [...archived, ...readRecords(walDir(o))].filter((r) => inWindow(r.record.time, { from, to }));
  } catch (e) {
    out.error(out.fail(readFailure(e)));
    return 1;
  }
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
      return [...COLUMNS.map((c) => cell(r.record[c])), leafHashHex(r.payload), JSON.stringify(rest)];
    });
    write(stringify(rows, { header: true, columns: [...COLUMNS, 'leaf_hash', 'detail'] }));
  }
  return finish(o, chunks, out);
}

/** With --out, the export lands whole or not at all. */
function finish(o: ExportOptions, chunks: string[], out: Out): number {
  if (!o.out) return 0;
  try {
    const tmp = `${o.out}.${process.pid}.tmp`;
    writeFileSync(tmp, chunks.join(''), { mode: 0o600 });
    renameSync(tmp, o.out);
  } catch (e) {
    out.error(out.fail(`--out: ${(e as Error).message}`));
    return 1;
  }
  return 0;
}

/**
 * A CSV cell. A text that a spreadsheet would read as a formula (it starts with =, +, -, @, a tab or
 * a carriage return: an agent chose the tool name) gets a leading apostrophe, so it stays text.
 */
const cell = (v: unknown) => (v === undefined ? '' : typeof v === 'string' ? (/^[=+\-@\t\r]/.test(v) ? `'${v}` : v) : JSON.stringify(v));
