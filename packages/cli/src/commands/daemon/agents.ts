/**
 * `faramesh agent list|show|quiesce|resume|spawn-ended`: the agents of the applied policy as the
 * daemon sees them. A quiesced agent's every call is denied (and recorded) until it is resumed; both are log
 * records naming the operator, and the standing survives restarts.
 */
import { Command, Option } from 'commander';
import { operatorCall, stackPaths } from '@faramesh/daemon/client';
import { makeOut, table } from '../../output.js';
import { guarded, operatorName } from './operator.js';

interface AgentView {
  id: string;
  state: 'active' | 'quiesced';
  quiesced?: { by: string; at: string; reason?: string };
  default: string;
  rules: number;
  budgets: string[];
  decisions: { permit: number; deny: number; defer: number };
  pending_approvals: number;
  /** With a `spawn { }` block: children live now, and the ceiling. */
  spawns?: { live: number; max_concurrent: number | null };
}

export function agentCommand(setCode: (code: number) => void, noColor: () => boolean): Command {
  const cmd = new Command('agent').description("the applied policy's agents: list, inspect, quiesce, resume (operator channel)");
  const run = (f: Parameters<typeof guarded>[1]) => async () => setCode(await guarded(makeOut(noColor()), f));
  const fetch = async (dir: string) => (await operatorCall<{ agents: AgentView[] }>(stackPaths(dir).operatorSocket, 'agents.list')).agents;
  const format = () => new Option('--format <format>', 'output format').choices(['text', 'json']).default('text');

  cmd
    .command('list')
    .description('every agent with its state, decisions and pending approvals')
    .option('--dir <dir>', 'stack directory', '.')
    .addOption(format())
    .action((o: { dir: string; format: 'text' | 'json' }) =>
      run(async (out) => {
        const agents = await fetch(o.dir);
        if (o.format === 'json') out.print(JSON.stringify({ agents }, null, 2));
        else
          out.print(
            table(
              ['AGENT', 'STATE', 'PERMIT', 'DEFER', 'DENY', 'PENDING'],
              agents.map((a) => [
                a.id,
                a.state,
                ...[a.decisions.permit, a.decisions.defer, a.decisions.deny, a.pending_approvals].map(String),
              ]),
            ),
          );
        return 0;
      })(),
    );
  cmd
    .command('show')
    .description('one agent in full')
    .argument('<id>')
    .option('--dir <dir>', 'stack directory', '.')
    .addOption(format())
    .action((id: string, o: { dir: string; format: 'text' | 'json' }) =>
      run(async (out) => {
        const a = (await fetch(o.dir)).find((x) => x.id === id);
        if (!a) {
          out.error(out.fail(`no agent ${id} in the applied policy`));
          return 4;
        }
        if (o.format === 'json') out.print(JSON.stringify(a, null, 2));
        else
          out.print(
            [
              `Agent ${a.id}`,
              `  state:          ${a.state}${a.quiesced ? ` (by ${a.quiesced.by} at ${a.quiesced.at}${a.quiesced.reason ? `: ${a.quiesced.reason}` : ''})` : ''}`,
              `  default:        ${a.default}`,
              `  rules:          ${a.rules}`,
              `  budgets:        ${a.budgets.join(', ') || '—'}`,
              `  decisions:      permit ${a.decisions.permit} · defer ${a.decisions.defer} · deny ${a.decisions.deny} (since the daemon started)`,
              `  pending:        ${a.pending_approvals} approval(s)`,
              ...(a.spawns
                ? [`  spawned:        ${a.spawns.live} live${a.spawns.max_concurrent === null ? '' : ` of ${a.spawns.max_concurrent}`}`]
                : []),
            ].join('\n'),
          );
        return 0;
      })(),
    );
  for (const verb of ['quiesce', 'resume'] as const)
    cmd
      .command(verb)
      .description(verb === 'quiesce' ? 'deny every call of the agent until it is resumed' : "let the agent's calls be decided again")
      .argument('<id>')
      .option('--dir <dir>', 'stack directory', '.')
      .option('--reason <text>', 'why (recorded in the log)')
      .action((id: string, o: { dir: string; reason?: string }) =>
        run(async (out) => {
          await operatorCall(stackPaths(o.dir).operatorSocket, `agents.${verb}`, {
            id,
            by: operatorName(),
            ...(o.reason ? { reason: o.reason } : {}),
          });
          out.print(
            out.ok(verb === 'quiesce' ? `${id} quiesced: every call is denied until faramesh agent resume ${id}` : `${id} resumed`),
          );
          return 0;
        })(),
      );
  cmd
    .command('spawn-ended')
    .description('children the agent spawned have ended (it could not say so): free their places under spawn { max_concurrent }')
    .argument('<id>')
    .option('--dir <dir>', 'stack directory', '.')
    .option('--count <n>', 'how many ended', (v) => Number(v), 1)
    .addOption(format())
    .action((id: string, o: { dir: string; count: number; format: 'text' | 'json' }) =>
      run(async (out) => {
        if (!Number.isInteger(o.count) || o.count < 1 || o.count > 1000) {
          out.error(out.fail('--count must be a whole number from 1 to 1000'));
          return 64;
        }
        const r = await operatorCall<{ ended: number; live: number }>(stackPaths(o.dir).operatorSocket, 'agents.spawn_ended', {
          id,
          by: operatorName(),
          count: o.count,
        });
        if (o.format === 'json') out.print(JSON.stringify({ agent_id: id, ...r }, null, 2));
        else out.print(out.ok(`${id}: ${r.ended} spawned child(ren) marked ended, ${r.live} live`));
        return 0;
      })(),
    );
  return cmd;
}
