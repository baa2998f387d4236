/**
 * faramesh audit verify [--dir] [--from] [--to] [--key] [--strict] [--include-archived [--archive DIR]]
 * [--format]: check the log end to end (a compacted log from its base, or with its archives read in full). Exit 0 verified; 1 a problem (the first offending record, its field and why); 2 the log
 * cannot be read; 3 dev-tagged records under --strict.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { verifyLogParallel, type Problem, type VerifyReport } from '@faramesh/audit';
import { makeOut, plural, snakeKeys } from '../../output.js';
import { pinnedKeys, timeWindow, walDir, type AuditPathOptions } from './paths.js';

export interface VerifyOptions extends AuditPathOptions {
  from?: string;
  to?: string;
  strict?: boolean;
  includeArchived?: boolean;
  /** Where the archive files are, when not where the compaction wrote them. */
  archive?: string;
  format: 'text' | 'json';
  noColor?: boolean;
}

const n = (x: number) => x.toLocaleString('en-US');

/** The compacted log's base as it stands ('' none): a change means a compaction finished. */
const baseText = (dir: string): string => {
  try {
    return readFileSync(join(dir, 'base.json'), 'utf8');
  } catch {
    return '';
  }
};

export async function verifyCmd(o: VerifyOptions): Promise<number> {
  const out = makeOut(o.noColor);
  const dir = walDir(o);
  let report: VerifyReport;
  let keySource: string | undefined;
  let from: number | undefined;
  let to: number | undefined;
  try {
    ({ from, to } = timeWindow(o.from, o.to));
  } catch (e) {
    // A usage error, not a missing log (exit 2): a script must not read a typo as "nothing logged yet".
    out.error(out.fail((e as Error).message));
    return 64;
  }
  try {
    const keys = pinnedKeys(o);
    keySource = keys.source;
    if (o.format === 'text') out.print(`Verifying audit log at ${dir} ...`);
    const bar =
      o.format === 'text' && process.stderr.isTTY
        ? new cliProgress.SingleBar({ stream: process.stderr, clearOnComplete: true, hideCursor: true }, cliProgress.Presets.shades_classic)
        : undefined;
    bar?.start(1, 0);
    try {
      // Large logs are scanned on worker threads, one per core; the report is the same as inline.
      const run = () =>
        verifyLogParallel(dir, {
          verifiers: keys.verifiers,
          ...(from !== undefined ? { from } : {}),
          ...(to !== undefined ? { to } : {}),
          ...(o.includeArchived ? { includeArchived: true } : {}),
          ...(o.archive !== undefined ? { archiveDir: resolve(o.archive) } : {}),
          ...(bar ? { onProgress: (done: number, total: number) => (bar.setTotal(total), bar.update(done)) } : {}),
        });
      const base = baseText(dir);
      try {
        report = await run();
      } catch (e) {
        // A compaction that finished during the run removed segments it was reading: once more, from the new base.
        if (baseText(dir) === base) throw e;
        report = await run();
      }
    } finally {
      bar?.stop();
    }
  } catch (e) {
    out.error(out.fail((e as Error).message));
    return 2;
  }
  const devFail = !!o.strict && report.dev > 0;
  if (o.format === 'json') {
    out.print(JSON.stringify(snakeKeys({ ...report, keys: keySource ?? null }), null, 2));
    return report.ok ? (devFail ? 3 : 0) : 1;
  }
  if (!report.ok) {
    printFailure(out, report, keySource);
    return 1;
  }
  const windowed = o.from !== undefined || o.to !== undefined ? ` (${n(report.inWindow)} in the window)` : '';
  out.done(`${n(report.records)} records${windowed} in ${plural(report.segments, 'segment')}, ${plural(report.chains, 'chain')}`);
  out.done('hash chains intact (no gaps, no rewrites)');
  const compacted = report.compacted;
  if (compacted?.included)
    out.done(`compacted: the first ${n(compacted.records)} records read in full from ${plural(compacted.archives, 'archive file')}`);
  else if (compacted)
    out.done(
      `compacted: the first ${n(compacted.records)} records checked by their leaf hashes and the record of the compaction (--include-archived reads the archives)`,
    );
  out.done(`segment manifests: ${report.manifestsOk}/${report.sealed} ok`);
  // The snapshot is what shows records cut from the log's end: when it could not be used, say so.
  if (report.snapshot === 'damaged')
    out.print("! snapshot.json is damaged (it does not check out): records removed from the log's end could not be checked against it");
  else if (report.snapshot === 'missing')
    out.print("  no snapshot.json: records removed from the log's end could not be checked against it");
  const c = report.checkpoints;
  if (c.total === 0) out.print(`  no checkpoints yet`);
  else
    out.print(
      out.ok(
        `checkpoints: ${c.verified}/${c.total} signatures valid (${c.signers.join(', ')}, pinned in ${keySource}), Merkle roots match`,
      ),
    );
  // Every signing key the log announced, by name and key id: a move from a KMS back to the stack key
  // (anyone with root on the host can make one) shows here, whatever name the keys share.
  for (const [i, k] of c.keys.entries())
    out.print(`  ${i === 0 ? 'signing key' : 'key rotated'}: ${k.key.split('+').slice(0, 2).join('+')} from record ${k.from_seq}`);
  // Not a failure (a running daemon always has such a tail, a crash leaves one for the next start),
  // but never passed over: these records are attested by the hash chain alone, which whoever can
  // write the log can rebuild, so the operator is told which ones they are.
  const tail = report.unsignedRange;
  if (tail)
    out.print(
      `! ${plural(report.unsigned, 'record')} (seq ${tail.from}–${tail.to}) after the last signed checkpoint: hash-chained only, not attested by a signature until the next checkpoint (a running daemon signs within 10 s, a clean stop signs before it exits)`,
    );
  out.done(`policy continuity: ${plural(report.policyVersions, 'policy version')}, every decision under an applied one`);
  const dev = `${plural(report.dev, 'dev-tagged record')} (stub providers signed or served them)`;
  if (report.dev === 0) out.done('no dev-mode records');
  else out.print(devFail ? out.fail(dev) : `! ${dev}`);
  if (report.pendingTail)
    out.print(
      `  ${report.pendingTail.bytes} bytes of an unfinished write at the end of ${report.pendingTail.segment} (in progress, or cut off by a crash)`,
    );
  out.print(devFail ? 'audit chain verified, but dev-tagged records are present (--strict)' : 'audit chain verified');
  return devFail ? 3 : 0;
}

function printFailure(out: ReturnType<typeof makeOut>, r: VerifyReport, keySource: string | undefined): void {
  const p = r.problems[0]!;
  const what = p.field === 'prev_hash' || p.field === 'content' || p.field === 'agent_id' ? 'chain break' : `${p.field} problem`;
  out.print(out.fail(`${what} at ${name(p)}`));
  out.print(`    field:   ${p.field}`);
  out.print(`    reason:  ${p.reason}`);
  out.print(`    file:    ${r.dir}/${p.segment} offset=${p.offset}`);
  const more = r.problemCount - 1;
  if (more > 0)
    out.print(
      `  (${plural(more, 'more problem')}: ${r.problems.slice(1, 4).map(name).join(', ')}${more > 3 ? ', …' : ''}; --format json lists them)`,
    );
  if (r.checkpoints.total > 0 && !keySource)
    out.print('  no pinned key: pass --key FILE or run from the stack directory (.faramesh/keys/audit.pub)');
  out.print('audit chain verification failed');
}

const name = (p: Problem) => (p.id ? `action-${p.id} (seq ${p.seq})` : `seq ${p.seq}`);
