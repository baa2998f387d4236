/**
 * faramesh audit trace <correlation-id>: every record of one task or run, in log order — the
 * decisions whose `request_id` (or `session_id`) is the id, the operator's or the TTL's resolution of
 * each deferral, and the MCP tasks those calls started. `explain run` summarises the same records.
 * Reads the files only; no daemon is needed.
 */
import { compactedNote, type StoredRecord } from '@faramesh/audit';
import { makeOut, plural } from '../../output.js';
import { recordLine } from './render.js';
import { inline } from '../../output.js';
import { eachLogRecord, readFailure, walDir, type AuditPathOptions } from './paths.js';

type Rec = Record<string, unknown>;

export interface RunRecords {
  id: string;
  /** The matched decisions and the events that follow from them, in log order. */
  records: StoredRecord[];
  /** How many decisions matched by each field. */
  matched: { request_id: number; session_id: number };
}

/** The ULID of an action id (`action-<ulid>` or the bare ULID). */
const bare = (actionId: unknown) => String(actionId).replace(/^action-/, '');

/**
 * One pass over the log: a resolution or a task always comes after the decision it follows. An
 * approval is followed by its id too: a call retried while it waits joins the same approval, which
 * names only the first call's action.
 */
export function collectRun(o: AuditPathOptions, id: string): RunRecords {
  const run: RunRecords = { id, records: [], matched: { request_id: 0, session_id: 0 } };
  const actions = new Set<string>();
  const approvals = new Set<string>();
  eachLogRecord(o, (stored) => {
    const r = stored.record as Rec;
    if (r.type === 'decision') {
      const by = r.request_id === id ? 'request_id' : r.session_id === id ? 'session_id' : undefined;
      if (!by) return;
      run.matched[by]++;
      actions.add(String(r.id));
      const waiting = (r.denial as { resolution?: { approval_id?: unknown } } | undefined)?.resolution?.approval_id;
      if (typeof waiting === 'string') approvals.add(waiting);
      run.records.push(stored);
    } else if (r.type === 'approval_resolved' && (approvals.has(String(r.approval_id)) || actions.has(bare(r.action_id))))
      run.records.push(stored);
    else if (r.type === 'mcp_task' && r.action_id !== undefined && actions.has(bare(r.action_id))) run.records.push(stored);
  });
  return run;
}

export interface TraceOptions extends AuditPathOptions {
  format: 'text' | 'json';
  noColor?: boolean;
}

/** Exit 0 with the records, 1 when none matched or the log cannot be read. */
export function traceCmd(id: string, o: TraceOptions): number {
  const out = makeOut(o.noColor);
  let run: RunRecords;
  const dir = walDir(o);
  try {
    run = collectRun(o, id);
  } catch (e) {
    out.error(out.fail(readFailure(e)));
    return 1;
  }
  if (run.records.length === 0) {
    out.error(
      out.fail(
        `no decision in ${dir}${o.includeArchived ? ' or its archive files' : compactedNote(dir)} has request_id or session_id '${id}'`,
      ),
    );
    return 1;
  }
  if (o.format === 'json') {
    // Each record's stored bytes, as `export --format jsonl` writes them: a consumer can rehash them.
    for (const r of run.records) out.print(r.payload.toString('utf8'));
    return 0;
  }
  out.print(`${matchedLine(run)}\n`);
  for (const r of run.records) out.print(recordLine(r.record as Rec, out.color));
  return 0;
}

/** `Run req-1: 5 decisions by request_id, 1 by session_id`. */
export function matchedLine(run: RunRecords): string {
  const parts = (['request_id', 'session_id'] as const).filter((k) => run.matched[k] > 0).map((k) => `${run.matched[k]} by ${k}`);
  return `Run ${inline(run.id)}: ${plural(run.matched.request_id + run.matched.session_id, 'decision')} (${parts.join(', ')})`;
}
