/**
 * The `faramesh audit` command group: the read side of the log. None of it needs the daemon. Each
 * subcommand's code loads when it runs.
 */
import { Command, Option } from 'commander';
import type { verifyBundleCmd } from './bundle.js';
import type { compactCmd } from './compact.js';
import type { proofCmd } from './proofs.js';
import type { showCmd } from './show.js';
import type { exportCmd } from './export.js';
import type { lsCmd, statsCmd } from './query.js';
import type { tailCmd } from './tail.js';
import type { traceCmd } from './trace.js';
import type { verifyCmd } from './verify.js';
import type { walInspectCmd } from './wal.js';

type Format = 'text' | 'json';

/** The options every audit subcommand takes: where the log is, where the stack (and its pinned key) is. */
function located(cmd: Command): Command {
  return cmd
    .option('--dir <dir>', "the WAL directory (default: the stack's runtime { wal_dir }, else ./faramesh-wal)")
    .option('--stack <dir>', 'the stack directory (governance.fms, .faramesh/keys)', '.');
}
/** `--include-archived [--archive DIR]`: the records compaction moved to archive files, read too. */
const archivedOptions = (cmd: Command, what = 'also the records compaction moved to archive files') =>
  cmd.option('--include-archived', what).option('--archive <dir>', 'where the archive files are (default: where compaction wrote them)');
const keyOption = (cmd: Command) => cmd.option('--key <file>', 'pinned checkpoint verifier keys (default: .faramesh/keys/audit.pub)');
const formatOption = (cmd: Command, formats: string[] = ['text', 'json'], fallback = 'text') =>
  cmd.addOption(new Option('--format <format>', 'output format').choices(formats).default(fallback));

export function auditCommand(setCode: (code: number) => void, noColor: () => boolean): Command {
  const audit = new Command('audit').description('inspect, verify and export the audit log (Decision Provenance Records)');

  formatOption(
    archivedOptions(
      keyOption(located(audit.command('verify').description('recompute every hash, chain, manifest, Merkle root and checkpoint signature')))
        .option('--from <time>', 'count records from this date or RFC 3339 time')
        .option('--to <time>', 'count records up to this date or RFC 3339 time')
        .option('--strict', 'fail (exit 3) when dev-tagged records are present'),
      'also read the records compaction moved to archive files, in full',
    ),
  ).action(async (o: Parameters<typeof verifyCmd>[0]) => {
    const { verifyCmd } = await import('./verify.js');
    setCode(await verifyCmd({ ...o, noColor: noColor() }));
  });

  formatOption(
    audit
      .command('compact')
      .description('move sealed log segments older than a duration into an archive file (the running daemon does it)')
      .requiredOption('--older-than <duration>', 'compact segments whose every record is older than this (90d, 24h)')
      .option('--archive <dir>', 'where the archive file goes (default: beside the log, <wal_dir>-archive)')
      .option('--stack <dir>', 'the stack directory', '.'),
  ).action(async (o: Parameters<typeof compactCmd>[0]) => {
    const { compactCmd } = await import('./compact.js');
    setCode(await compactCmd({ ...o, noColor: noColor() }));
  });

  const proof = formatOption(
    keyOption(
      located(
        audit.command('proof').description('print an inclusion proof of a record against the latest checkpoint').argument('<action-id>'),
      ),
    ),
  );
  archivedOptions(proof).action(async (id: string, o: Parameters<typeof proofCmd>[1]) => {
    const { proofCmd } = await import('./proofs.js');
    setCode(proofCmd(id, { ...o, noColor: noColor() }));
  });

  formatOption(
    keyOption(
      located(
        audit
          .command('consistency')
          .description('prove the log extends an older checkpoint (detects truncation and rewriting)')
          .argument('<old-checkpoint>'),
      ),
    ),
  ).action(async (file: string, o: { dir?: string; stack: string; key?: string; format: Format }) => {
    const { consistencyCmd } = await import('./proofs.js');
    setCode(consistencyCmd(file, { ...o, noColor: noColor() }));
  });

  formatOption(
    keyOption(
      located(
        audit.command('checkpoint').description('print the latest signed checkpoint (keep it off-host; check it later with consistency)'),
      ),
    ),
  ).action(async (o: { dir?: string; stack: string; key?: string; format: Format }) => {
    const { checkpointCmd } = await import('./proofs.js');
    setCode(checkpointCmd({ ...o, noColor: noColor() }));
  });

  formatOption(
    archivedOptions(keyOption(located(audit.command('export').description('write the records of a time window for SIEMs and auditors'))))
      .option('--from <time>', 'from this date or RFC 3339 time')
      .option('--to <time>', 'up to this date (inclusive) or RFC 3339 time')
      .option('--out <file>', 'write to this file (whole or not at all) instead of stdout')
      .option(
        '--include-public-keys',
        'write an evidence bundle instead: the records with a proof against the latest signed checkpoint and the keys that verify it (checked offline by audit verify-bundle)',
      ),
    ['json', 'jsonl', 'csv'],
    'jsonl',
  ).action(async (o: Parameters<typeof exportCmd>[0], cmd: Command) => {
    if (o.includePublicKeys && cmd.getOptionValueSource('format') === 'cli' && o.format !== 'json') {
      process.stderr.write(`✗ --include-public-keys writes a JSON evidence bundle: --format ${o.format} does not apply\n`);
      return setCode(64);
    }
    if (o.includePublicKeys && o.includeArchived) {
      process.stderr.write('✗ an evidence bundle holds records of the live log: --include-archived does not apply\n');
      return setCode(64);
    }
    const { exportCmd } = await import('./export.js');
    setCode(exportCmd({ ...o, noColor: noColor() }));
  });

  formatOption(
    audit
      .command('verify-bundle')
      .description('check an evidence bundle offline: the checkpoint signature, the range proof of its records, their fields and chains')
      .argument('<file>')
      .option('--key <file>', "trust only the verifier keys in this file (default: the bundle's own keys, whose ids are printed)"),
  ).action(async (file: string, o: Parameters<typeof verifyBundleCmd>[1]) => {
    const { verifyBundleCmd } = await import('./bundle.js');
    setCode(verifyBundleCmd(file, { ...o, noColor: noColor() }));
  });

  formatOption(
    located(audit.command('tail').description('print the latest records, then follow the log live'))
      .option('--agent <id>', 'only this agent')
      .addOption(new Option('--effect <effect>', 'only decisions with this effect').choices(['permit', 'defer', 'deny']))
      .option('--tool <tool>', 'only this tool')
      .option('--limit <n>', 'how many past records to print first', '20')
      .option('--no-follow', 'print and exit instead of following'),
  ).action(async (o: Parameters<typeof tailCmd>[0]) => {
    const { tailCmd } = await import('./tail.js');
    setCode(await tailCmd({ ...o, noColor: noColor() }));
  });

  const filters = (cmd: Command) =>
    archivedOptions(cmd)
      .option('--since <duration>', 'only decisions this recent (24h, 7d, 30m; default: the whole log)')
      .option('--agent <id>', 'only this agent')
      .option('--tool <tool>', 'only this tool')
      .addOption(new Option('--effect <effect>', 'only decisions with this effect').choices(['permit', 'defer', 'deny']));

  formatOption(
    filters(located(audit.command('ls').description('list the decisions of a window, newest last'))).option(
      '--limit <n>',
      'how many of the newest to list',
      '50',
    ),
  ).action(async (o: Parameters<typeof lsCmd>[0]) => {
    const { lsCmd } = await import('./query.js');
    setCode(lsCmd({ ...o, noColor: noColor() }));
  });

  formatOption(
    filters(located(audit.command('stats').description('count the decisions of a window: by effect, top tools, agents and denial codes'))),
  ).action(async (o: Parameters<typeof statsCmd>[0]) => {
    const { statsCmd } = await import('./query.js');
    setCode(statsCmd({ ...o, noColor: noColor() }));
  });

  formatOption(
    archivedOptions(
      located(
        audit
          .command('trace')
          .description('every record of one task or run: the decisions whose request_id (or session_id) is the id, and what followed them')
          .argument('<correlation-id>'),
      ),
    ),
  ).action(async (id: string, o: Parameters<typeof traceCmd>[1]) => {
    const { traceCmd } = await import('./trace.js');
    setCode(traceCmd(id, { ...o, noColor: noColor() }));
  });

  formatOption(
    archivedOptions(
      keyOption(
        located(audit.command('show').description('print one record in full, with its hash, chain and checkpoint').argument('<id>')),
      ),
    ),
  ).action(async (id: string, o: Parameters<typeof showCmd>[1]) => {
    const { showCmd } = await import('./show.js');
    setCode(showCmd(id, { ...o, noColor: noColor() }));
  });
  const wal = audit.command('wal').description("the log's files (for debugging the log itself)");
  formatOption(
    located(wal.command('inspect').description('segments, records, the last record, the latest checkpoint, the snapshot and the writer')),
  ).action(async (o: Parameters<typeof walInspectCmd>[0]) => {
    const { walInspectCmd } = await import('./wal.js');
    setCode(walInspectCmd({ ...o, noColor: noColor() }));
  });
  return audit;
}
