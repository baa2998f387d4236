/**
 * faramesh audit export [--from] [--to] [--format json|jsonl|csv] [--out FILE] [--include-public-keys]
 * [--include-archived [--archive DIR]]: records in a time window, read-only (with the records a
 * compaction archived, under --include-archived). `jsonl` writes each record's stored canonical bytes, so a
 * consumer can recompute every hash; `--include-public-keys` writes an evidence bundle instead, which
 * `audit verify-bundle` checks offline.
 */
import { stringify } from 'csv-stringify/sync';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { exportBundle, inWindow, leafHashHex, type StoredRecord } from '@faramesh/audit';
import { makeOut, plural } from '../../output.js';
import { eachLogRecord, pinnedKeys, readFailure, timeWindow, walDir, type AuditPathOptions } from './paths.js';

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
  let from: number | undefined;
  let to: number | undefined;
  try {
    ({ from, to } = timeWindow(o.from, o.to));
  } catch (e) {
    // A usage error, as for audit verify.
    out.error(out.fail((e as Error).message));
    return 64;
  }
  let sink: Sink;
  try {
    sink = o.out ? fileSink(o.out) : stdoutSink();
  } catch (e) {
    out.error(out.fail(`--out: ${(e as Error).message}`));
    return 1;
  }
  try {
    if (o.includePublicKeys) {
      const { verifiers, source } = pinnedKeys(o);
      if (verifiers.length === 0) throw new Error('no pinned key to prove the records with: .faramesh/keys/audit.pub, or --key FILE');
      const { bundle, unsigned, compactedBefore } = exportBundle(walDir(o), verifiers, { from, to });
      sink.write(`${JSON.stringify(bundle, null, 2)}\n`);
      sink.close();
      out.error(
        out.ok(
          `${plural(bundle.records.length, 'record')} (seq ${bundle.first_seq}–${bundle.first_seq + bundle.records.length - 1}) proven against the checkpoint of tree size ${bundle.tree_size}, keys from ${source}`,
        ),
      );
      if (unsigned > 0) out.error(`! ${plural(unsigned, 'record')} of the window came after that checkpoint and are not in the bundle`);
      if (compactedBefore !== undefined)
        out.error(
          `! the window reaches into the log's first ${compactedBefore} records, which compaction moved to archive files: a bundle holds the live log, so the window's archived records are not in it (export --include-archived writes them)`,
        );
      return 0;
    }
    // Streamed a record at a time: an export of any size needs no more memory than one record.
    let count = 0;
    const each = (visit: (r: StoredRecord) => void) =>
      eachLogRecord(o, (r) => {
        if (!inWindow(r.record.time, { from, to })) return;
        visit(r);
        count++;
      });
    if (o.format === 'jsonl') each((r) => sink.write(`${r.payload.toString('utf8')}\n`));
    else if (o.format === 'json') {
      const meta = { format: 'faramesh-audit-export/1', exported_at: new Date().toISOString(), from: o.from ?? null, to: o.to ?? null };
      // The count is known at the end: it closes the object, after the records.
      sink.write(`${JSON.stringify(meta, null, 2).slice(0, -2)},\n  "records": [`);
      each((r) => sink.write(`${count === 0 ? '' : ','}\n${JSON.stringify(r.record, null, 2).replace(/^/gm, '    ')}`));
      sink.write(`${count > 0 ? '\n  ' : ''}],\n  "count": ${count}\n}\n`);
    } else {
      const columns = [...COLUMNS, 'leaf_hash', 'detail'];
      sink.write(stringify([], { header: true, columns }));
      each((r) => {
        const rest = Object.fromEntries(Object.entries(r.record).filter(([k]) => !(COLUMNS as readonly string[]).includes(k)));
        sink.write(stringify([[...COLUMNS.map((c) => cell(r.record[c])), leafHashHex(r.payload), JSON.stringify(rest)]], { columns }));
      });
    }
    sink.close();
    if (o.out) out.note(out.ok(`${plural(count, 'record')} exported to ${o.out} (${o.format})`));
  } catch (e) {
    sink.abort();
    out.error(out.fail(o.out && e instanceof SinkError ? `--out: ${e.message}` : readFailure(e)));
    return 1;
  }
  return 0;
}

/** Where the export goes, written as it is made. */
interface Sink {
  write(s: string): void;
  /** Done: with --out, the file lands whole (renamed into place), never in part. */
  close(): void;
  /** Failed: with --out, nothing is left behind. */
  abort(): void;
}

class SinkError extends Error {}

/** About a mebibyte at a time: fewer writes, and never the whole export in one string. */
const FLUSH_AT = 1 << 20;

/**
 * Writes to `fd` a mebibyte at a time, synchronously: `process.stdout` to a pipe is asynchronous and
 * never pushes back on a synchronous loop, so a slow reader (`| gzip`, `| ssh`) would have the whole
 * export queued in memory. A full pipe is waited on instead; a reader gone (`| head`) ends the command
 * quietly, as for any other. `end` finishes the destination once everything is written.
 */
function fdSink(fd: number, end: { close(): void; abort(): void }): Sink {
  let pending = '';
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const flush = () => {
    if (!pending) return;
    const b = Buffer.from(pending, 'utf8');
    pending = '';
    for (let done = 0; done < b.length;) {
      try {
        done += writeSync(fd, b, done, b.length - done);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') Atomics.wait(pause, 0, 0, 5);
        else if (code === 'EPIPE') process.exit(process.exitCode ?? 0);
        else throw new SinkError((e as Error).message);
      }
    }
  };
  return {
    write(s) {
      pending += s;
      if (pending.length >= FLUSH_AT) flush();
    },
    close() {
      flush();
      end.close();
    },
    abort() {
      try {
        flush();
      } catch {
        // Already failing: the first error is the one reported.
      }
      end.abort();
    },
  };
}

/** A file written beside its place and renamed there once whole. */
function fileSink(path: string): Sink {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  return fdSink(fd, {
    close() {
      try {
        fsyncSync(fd);
        closeSync(fd);
        renameSync(tmp, path);
      } catch (e) {
        throw new SinkError((e as Error).message);
      }
    },
    abort() {
      try {
        closeSync(fd);
      } catch {
        // Closed already.
      }
      rmSync(tmp, { force: true });
    },
  });
}

const stdoutSink = (): Sink => fdSink(1, { close() {}, abort() {} });

/**
 * A CSV cell. A text that a spreadsheet would read as a formula (it starts with =, +, -, @, a tab or
 * a carriage return: an agent chose the tool name) gets a leading apostrophe, so it stays text.
 */
const cell = (v: unknown) => (v === undefined ? '' : typeof v === 'string' ? (/^[=+\-@\t\r]/.test(v) ? `'${v}` : v) : JSON.stringify(v));
