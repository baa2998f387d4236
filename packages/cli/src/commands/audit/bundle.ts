/**
 * faramesh audit verify-bundle <file> [--key FILE] [--format text|json]: check an evidence bundle
 * (`audit export --include-public-keys`) offline — no log, no daemon, no KMS. With `--key`, only
 * the keys pinned there are trusted; otherwise the bundle's own keys are used and their ids printed,
 * to compare with the ones the operator published.
 */
import { readFileSync } from 'node:fs';
import { readVerifierKeys, verifyBundle, type BundleReport, type Verifier } from '@faramesh/audit';
import { makeOut, plural } from '../../output.js';

export interface VerifyBundleOptions {
  key?: string;
  format: 'text' | 'json';
  noColor?: boolean;
}

/** Exit 0 verified, 1 a problem, 2 the file or the key cannot be read. */
export function verifyBundleCmd(file: string, o: VerifyBundleOptions): number {
  const out = makeOut(o.noColor);
  let data: unknown;
  let pinned: Verifier[] | undefined;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
    if (o.key) pinned = readVerifierKeys(o.key);
  } catch (e) {
    out.error(out.fail((e as Error).message));
    return 2;
  }
  const report = verifyBundle(data, pinned);
  if (o.format === 'json') {
    out.print(JSON.stringify(report, null, 2));
    return report.ok ? 0 : 1;
  }
  print(report, out);
  return report.ok ? 0 : 1;
}

function print(r: BundleReport, out: ReturnType<typeof makeOut>): void {
  const problem = r.problems[0];
  const at = (p: BundleReport['problems'][number]) => `${p.seq !== undefined ? `record seq ${p.seq}: ` : ''}'${p.field}' ${p.reason}`;
  if (r.origin === null) {
    out.print(out.fail(at(problem!)));
    out.print('bundle verification failed');
    return;
  }
  const keys = r.keys_from === 'pinned' ? 'pinned' : "the bundle's own: compare their ids with the ones the operator published";
  out.print(
    out.ok(`checkpoint of ${r.origin}, tree size ${r.tree_size}, signed ${r.checkpoint_time} by ${r.signed_by.join(', ')} (keys ${keys})`),
  );
  const last = r.first_seq! + r.records - 1;
  if (r.ok) {
    out.done(`${plural(r.records, 'record')} (seq ${r.first_seq}–${last}) are those leaves of the signed tree (range proof)`);
    out.done(`every record well formed and in canonical form; ${plural(r.chains, 'chain')} linked within the bundle`);
    const w = r.window!;
    const span = `${w.from ?? 'the start of the log'} to ${w.to ?? 'the checkpoint'}`;
    out.done(`window ${span}: ${plural(w.records, 'record')} of the bundle fall in it`);
    if (!w.complete.start) out.print(`! the run starts inside the window: earlier records of the window may have been left out`);
    if (w.to === null) out.print(`  the run ends with the signed tree: records written after the checkpoint are not in it`);
    else if (!w.complete.end)
      out.print(`! the run ends inside the window: later records of the window may have been left out (or were not signed yet)`);
    out.print('bundle verified');
    return;
  }
  for (const p of r.problems.slice(0, 10)) out.print(out.fail(at(p)));
  if (r.problems.length > 10) out.print(`  … ${r.problems.length - 10} more`);
  out.print('bundle verification failed');
}
