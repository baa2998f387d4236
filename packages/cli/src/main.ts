/**
 * The `faramesh` command line. Each command's code is loaded only when it runs: `serve` (the
 * daemon's entry point) and the operator commands start without the compiler, and the compiler
 * commands without the daemon.
 */
import { resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { auditCommand } from './commands/audit/index.js';
import { approvalsCommand } from './commands/daemon/approvals.js';
import { tokenCommand } from './commands/daemon/tokens.js';
import { agentCommand } from './commands/daemon/agents.js';
import { agentExec, supervisorCommand } from './commands/daemon/supervisor.js';
import type { ExplainCommandOptions } from './commands/explain/index.js';
import type { ApplyOptions } from './commands/daemon/apply.js';
import type { CheckOptions } from './commands/check.js';
import { authCommand, bundleCommand, registryCommand } from './commands/registry/index.js';
import { formatOption, printable, setQuiet, type Format } from './output.js';

const VERSION = '0.1.0';

/** Run the CLI; resolves to the process exit code. Never throws for user errors. */
export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = new Command('faramesh')
    .description('Governance for AI agent tool calls: check, compile and enforce governance.fms.')
    .version(VERSION)
    .option('--no-color', 'disable ANSI colours')
    .option('-q, --quiet', 'leave out confirmations and hints: data, warnings, errors and the exit code remain')
    .exitOverride()
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  const noColor = () => program.opts<{ color: boolean }>().color === false;
  const quiet = () => program.opts<{ quiet?: boolean }>().quiet === true;
  program.hook('preAction', () => setQuiet(quiet()));

  program
    .command('version')
    .description('print the version of faramesh (and of node and the platform it runs on)')
    .addOption(formatOption())
    .action((o: { format: Format }) => {
      const about = { version: VERSION, node: process.version, platform: `${process.platform}-${process.arch}` };
      process.stdout.write(
        o.format === 'json' ? `${JSON.stringify(about)}\n` : `faramesh ${about.version} (node ${about.node}, ${about.platform})\n`,
      );
    });

  program
    .command('init')
    .description('write a starter governance.fms: detect the framework, find the tools the sources register, defer each one')
    .option('--dir <dir>', 'stack directory', '.')
    .option('--offline', 'do not write the registry import line')
    .option('--non-interactive', 'never prompt: several frameworks detected leave the framework unknown')
    .option('--yaml', 'write governance.fms.yaml (the same policy in YAML)')
    .option('--json', 'write governance.fms.json (the same policy in JSON)')
    .action(async (o: { dir: string; offline?: boolean; nonInteractive?: boolean; yaml?: boolean; json?: boolean }) => {
      const { init } = await import('./commands/init/index.js');
      code = await init({ ...o, noColor: noColor() });
    });

  program
    .command('check')
    .description('parse, type-check and resolve imports of governance.fms without starting anything')
    .option('--dir <dir>', 'stack directory', '.')
    .option('--strict', 'fail (exit 3) on warnings too')
    .option('--offline', 'resolve imports from .faramesh/import-cache only')
    .option('--bundle <file>', 'install an offline bundle (faramesh bundle) into the import cache first')
    .option('--locked', 'every import must already be in governance.fms.lock (exit 2 otherwise); record nothing')
    .option('--strict-env', 'an unset env("X") is an error')
    .addOption(formatOption())
    .action(async (o: CheckOptions) => {
      const { check } = await import('./commands/check.js');
      code = await check({ ...o, noColor: noColor() });
    });

  program
    .command('fmt')
    .description('rewrite governance.fms in canonical form')
    .option('--dir <dir>', 'stack directory', '.')
    .option('--check', 'only report whether the file is formatted (exit 1 if not)')
    .addOption(formatOption())
    .action(async (o: { dir: string; check?: boolean; format: Format }) => {
      const { fmt } = await import('./commands/fmt.js');
      code = fmt({ ...o, noColor: noColor() });
    });

  program
    .command('compile')
    .description('print the compiled policy (canonical JSON IR) and its policy_version')
    .option('--dir <dir>', 'stack directory', '.')
    .option('--out <file>', 'write to a file instead of stdout')
    .option('--offline', 'resolve imports from .faramesh/import-cache only')
    .addOption(formatOption('output format (the IR is JSON in both; json says what --out wrote)'))
    .action(async (o: { dir: string; out?: string; offline?: boolean; format: Format }) => {
      const { compileCmd } = await import('./commands/compile.js');
      code = await compileCmd({ ...o, noColor: noColor() });
    });

  program
    .command('test')
    .description('run policy fixtures (tests/*.fmtest.json) against the compiled policy')
    .option('--dir <dir>', 'stack directory', '.')
    .option('--fixture <file>', 'run a single fixture file')
    .option('--fail-fast', 'stop at the first mismatch')
    .option('--update', "rewrite fixtures' expectations to the actual decisions (prints the diff first)")
    .addOption(formatOption())
    .action(async (o: { dir: string; fixture?: string; failFast?: boolean; update?: boolean; format: Format }) => {
      const { runTests } = await import('./commands/test.js');
      code = await runTests({ ...o, noColor: noColor() });
    })
    .command('record')
    .description('write fixtures from the audit log: each tool called in the window, expecting its latest decision')
    .option('--since <duration>', 'how far back to read (24h, 7d, 30m)', '24h')
    .option('--out <file>', 'the fixture to write (one per agent when several: <name>.<agent>.fmtest.json)', 'tests/recorded.fmtest.json')
    .option('--agent <id>', 'only this agent')
    .option('--force', 'replace fixtures already there')
    // `--dir` and `--format` belong to `test`, which parses them wherever they stand.
    .action(async (_o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<{ dir: string; since: string; out: string; agent?: string; force?: boolean; format: Format }>();
      if (o.format === 'json') {
        process.stderr.write('✗ --format json: test record writes fixtures and reports in text only\n');
        code = 64;
        return;
      }
      const { recordFixtures } = await import('./commands/test-record/index.js');
      code = recordFixtures({ ...o, noColor: noColor() });
    });

  program
    .command('explain')
    .description(
      'explain a decision, approval, agent, rule or run (decision|approval|agent|rule|run <id>, or an action id), or walk the pipeline for a hypothetical call',
    )
    .argument('[what]', 'decision, approval, agent, rule or run; or an action id (action-<ulid>)')
    .argument('[id]', 'the action id, approval id, agent id, rule ref (governance.fms:LINE) or correlation id (request_id or session_id)')
    .option('--agent <id>', 'agent id (hypothetical call)')
    .option('--tool <tool>', 'tool id (hypothetical call)')
    .option('--args <json>', 'arguments as a JSON object', '{}')
    .option('--principal <json>', 'principal claims as a JSON object')
    .option('--model <model>', 'the model the agent runs on')
    .option('--session <id>', 'session id')
    .option('--tags <list>', "the caller's tags (comma-separated), as the SDK sends them")
    .option('--now <time>', 'decide as of this RFC 3339 time (default: now)')
    .option('--unapplied', 'hypothetical call: walk governance.fms as written, not the policy in force')
    .option('--dir <dir>', 'stack directory', '.')
    .option('--wal <dir>', "the WAL directory, for an action or correlation id (default: the stack's runtime { wal_dir })")
    .option('--key <file>', 'pinned checkpoint verifier keys, for an action id (default: .faramesh/keys/audit.pub)')
    .option('--include-archived', 'for an action or correlation id: also the records compaction moved to archive files')
    .option('--archive <dir>', 'where the archive files are (default: where compaction wrote them)')
    .addOption(formatOption())
    .action(async (what: string | undefined, id: string | undefined, o: ExplainCommandOptions) => {
      const { explainCommand } = await import('./commands/explain/index.js');
      code = await explainCommand(what, id, { ...o, noColor: noColor() });
    });

  program.addCommand(auditCommand((c) => (code = c), noColor));

  program
    .command('plan')
    .description('dry run of apply: diff governance.fms against the policy in force and replay recent decisions under it')
    .option('--dir <dir>', 'stack directory', '.')
    .addOption(formatOption())
    .option('--since <duration>', 'history window to replay (30m, 24h, 7d)', '24h')
    .option('--strict-replay', 'exit 2 when the replay shows any call decided differently (or undetermined)')
    .action(async (o: { dir: string; format: Format; since: string; strictReplay?: boolean }) => {
      const { plan } = await import('./commands/plan/index.js');
      code = await plan({ ...o, noColor: noColor() });
    });

  program
    .command('apply')
    .description('check, compile and sign governance.fms, then start the daemon (or hot-swap its policy)')
    .option('--dir <dir>', 'stack directory', '.')
    .option('--force', 'accepted for compatibility: apply stops on a failed check either way')
    .option('--check-uid', 'refuse if the daemon would run as the same user as the agent')
    .option('--require-uid-separation', 'like --check-uid, and an error even when not root')
    .option('--stop', "stop this stack's daemon (drain, checkpoint the log, remove the socket)")
    .option('--offline', 'resolve imports from .faramesh/import-cache only')
    .option('--bundle <file>', 'install an offline bundle (faramesh bundle) into the import cache first')
    .option('--locked', 'every import must already be in governance.fms.lock; record nothing')
    .action(async (o: ApplyOptions) => {
      const { apply } = await import('./commands/daemon/apply.js');
      code = await apply({ ...o, noColor: noColor() });
    });

  program
    .command('dev')
    .description('run the daemon in the foreground on a throwaway in-memory log (dev-tagged records, stub identity); Ctrl-C stops it')
    .option('--dir <dir>', 'stack directory', '.')
    // -q (global): records are not echoed to stderr.
    .action(async (o: { dir: string }) => {
      const { dev } = await import('./commands/daemon/dev.js');
      code = await dev({ ...o, quiet: quiet(), noColor: noColor() });
    });

  program
    .command('mcp <server>')
    .description("serve an mcp_server of the stack on stdin/stdout through the daemon's MCP proxy (for clients that launch a command)")
    .option('--dir <dir>', 'stack directory', '.')
    .option('--agent <id>', 'the agent this client is (default: FARAMESH_AGENT_ID)')
    .action(async (server: string, o: { dir: string; agent?: string }) => {
      const { mcpBridge } = await import('./commands/mcp/bridge.js');
      code = await mcpBridge(server, o);
    });

  program
    .command('serve')
    .description('run the daemon in the foreground (apply starts it in the background)')
    .option('--dir <dir>', 'stack directory', '.')
    .action(async (o: { dir: string }) => {
      const { serveCmd } = await import('./commands/daemon/serve.js');
      code = await serveCmd(o);
    });

  program
    .command('status')
    .description("the daemon's state, policy, log and approvals")
    .option('--dir <dir>', 'stack directory', '.')
    // -q (global): print nothing, only the exit code.
    .addOption(formatOption())
    .option('--watch', 'report again every two seconds until interrupted (JSON: one object per line when piped)')
    .addOption(new Option('--interval <ms>', 'with --watch: milliseconds between reports').default('2000').hideHelp())
    .action(async (o: { dir: string; watch?: boolean; interval: string; format: Format }) => {
      const { status } = await import('./commands/daemon/status.js');
      const interval = Number(o.interval);
      if (!Number.isFinite(interval) || interval < 50) {
        process.stderr.write(`✗ --interval: '${o.interval}' is not a number of milliseconds (50 or more)\n`);
        code = 64;
        return;
      }
      code = await status({ ...o, quiet: quiet(), interval, noColor: noColor() });
    });

  program.addCommand(approvalsCommand((c) => (code = c), noColor));
  program.addCommand(tokenCommand((c) => (code = c), noColor));
  program.addCommand(agentCommand((c) => (code = c), noColor));
  program.addCommand(supervisorCommand((c) => (code = c), noColor));
  program.addCommand(registryCommand((c) => (code = c), noColor));
  program.addCommand(authCommand((c) => (code = c), noColor));
  program.addCommand(bundleCommand((c) => (code = c), noColor));
  program
    .command('__agent-exec', { hidden: true })
    .description("start a command through the stack's launcher (the same sandbox as .faramesh/bin/agent)")
    .option('--dir <dir>', 'stack directory', '.')
    .argument('[command...]')
    .action(async (command: string[], o: { dir: string }) => {
      code = await agentExec(o.dir, command);
    });

  program
    .command('destroy')
    .description("stop the stack's daemon and remove what apply made (governance.fms is kept)")
    .option('--dir <dir>', 'stack directory', '.')
    .option('--stack <dir>', 'the same as --dir (as the audit commands name the stack)')
    .option('--keep-wal', 'keep the audit log (and the keys that verify it)')
    .option('--keep-state', 'keep approvals, tokens and policy versions (budgets, rate limits and quiesce live in the log: --keep-wal)')
    .option('--yes', 'do not ask for confirmation')
    .action(async (o: { dir: string; stack?: string; keepWal?: boolean; keepState?: boolean; yes?: boolean }, cmd: Command) => {
      // Two different stacks named: destroying either one on a guess could remove the wrong log.
      if (o.stack !== undefined && cmd.getOptionValueSource('dir') === 'cli' && resolve(o.stack) !== resolve(o.dir)) {
        process.stderr.write(`✗ --dir ${printable(o.dir)} and --stack ${printable(o.stack)} name different stacks: give one of them\n`);
        code = 64;
        return;
      }
      const { destroy } = await import('./commands/daemon/destroy.js');
      code = await destroy({ ...o, dir: o.stack ?? o.dir, noColor: noColor() });
    });

  const credential = program.command('credential').description('the credential broker: check a provider, or preview what a call would get');
  credential
    .command('probe <provider>')
    .description('fetch a fresh credential for each credential block using this provider (values are never printed)')
    .option('--dir <dir>', 'stack directory', '.')
    .addOption(formatOption())
    .action(async (provider: string, o: { dir: string; format: Format }) => {
      const { credentialProbe } = await import('./commands/credential.js');
      code = await credentialProbe(provider, { ...o, noColor: noColor() });
    });
  credential
    .command('preview')
    .description('which credential a permitted call would get, and where it would go (nothing is fetched)')
    .requiredOption('--agent <id>', 'the agent')
    .requiredOption('--tool <tool>', 'the tool id')
    .option('--dir <dir>', 'stack directory', '.')
    .addOption(formatOption())
    .action(async (o: { dir: string; agent: string; tool: string; format: Format }) => {
      const { credentialPreview } = await import('./commands/credential.js');
      code = await credentialPreview({ ...o, noColor: noColor() });
    });

  program
    .command('rollback')
    .description('re-apply an earlier policy version (default: the one before the current)')
    .option('--dir <dir>', 'stack directory', '.')
    .option('--to <version>', 'v<N> from --list, or a policy version hash (8+ characters)')
    .option('--list', 'list the applied versions instead')
    .addOption(formatOption())
    .action(async (o: { dir: string; to?: string; list?: boolean; format: Format }) => {
      const { rollback } = await import('./commands/daemon/rollback.js');
      code = await rollback({ ...o, noColor: noColor() });
    });

  // Command groups built on their own (`new Command`, then addCommand) do not inherit the program's
  // settings: without this a usage error in `audit verify` or `approvals list` would exit 1 (which
  // `audit verify` uses for a broken chain) instead of 64.
  const inherit = (c: Command): void => {
    for (const sub of c.commands) {
      sub.exitOverride().configureOutput({ writeErr: (s) => process.stderr.write(s) });
      inherit(sub);
    }
  };
  inherit(program);

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 64;
    // A stack that cannot be loaded (StackError, from the compiler, which may not be loaded at all).
    if (e instanceof Error && e.name === 'StackError') {
      process.stderr.write(`✗ ${printable(e.message)}\n`);
      return 1;
    }
    throw e;
  }
  return code;
}
