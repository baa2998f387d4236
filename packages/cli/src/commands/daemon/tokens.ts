/**
 * `faramesh token issue|list|revoke`: bearer tokens for the daemon's HTTP channel. An agent token
 * makes every request that agent's; an operator token reaches the operator API. The daemon keeps
 * only hashes: the token is printed once, on stdout alone, so `$(faramesh token issue …)` captures it.
 */
import { Command, Option } from 'commander';
import { operatorCall, stackPaths } from '@faramesh/daemon/client';
import { makeOut, table } from '../../output.js';
import { guarded } from './operator.js';

interface Principal {
  name: string;
  role: 'agent' | 'operator';
  agent_id?: string;
  created_at: string;
}

export function tokenCommand(setCode: (code: number) => void, noColor: () => boolean): Command {
  const cmd = new Command('token').description('bearer tokens for the HTTP API (operator channel)');
  const run = (f: Parameters<typeof guarded>[1]) => async () => setCode(await guarded(makeOut(noColor()), f));
  cmd
    .command('issue')
    .description('make a token for an agent (--agent) or an operator (--operator); printed once')
    .option('--dir <dir>', 'stack directory', '.')
    .option('--agent <id>', 'the agent the token speaks for')
    .option('--operator', 'an operator token (approvals, apply, status over HTTP)')
    .option('--name <name>', 'a name for the token (default: the agent id)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action((o: { dir: string; agent?: string; operator?: boolean; name?: string; format: 'text' | 'json' }) =>
      run(async (out) => {
        if (!o.operator === !o.agent) {
          out.error(out.fail('say whose token it is: --agent <id> or --operator'));
          return 64;
        }
        const name = o.name ?? o.agent;
        if (!name) {
          out.error(out.fail('an operator token needs --name'));
          return 64;
        }
        const issued = await operatorCall<{ token: string; entry: Principal }>(stackPaths(o.dir).operatorSocket, 'tokens.issue', {
          role: o.operator ? 'operator' : 'agent',
          name,
          ...(o.agent ? { agent: o.agent } : {}),
        });
        if (o.format === 'json') out.print(JSON.stringify({ ...issued.entry, token: issued.token }, null, 2));
        else {
          out.print(issued.token);
          out.note(out.ok(`token ${name} issued (${o.operator ? 'operator' : `agent ${o.agent}`}); it is not shown again`));
        }
        return 0;
      })(),
    );
  cmd
    .command('list')
    .description('the tokens the daemon accepts (names only, never the secrets)')
    .option('--dir <dir>', 'stack directory', '.')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action((o: { dir: string; format: 'text' | 'json' }) =>
      run(async (out) => {
        const { tokens } = await operatorCall<{ tokens: Principal[] }>(stackPaths(o.dir).operatorSocket, 'tokens.list');
        if (o.format === 'json') out.print(JSON.stringify({ tokens }, null, 2));
        else if (tokens.length === 0) out.print('no tokens (issue one with faramesh token issue)');
        else
          out.print(
            table(
              ['NAME', 'ROLE', 'AGENT', 'CREATED'],
              tokens.map((t) => [t.name, t.role, t.agent_id ?? '—', t.created_at]),
            ),
          );
        return 0;
      })(),
    );
  cmd
    .command('revoke')
    .description('stop accepting a token')
    .argument('<name>')
    .option('--dir <dir>', 'stack directory', '.')
    .action((name: string, o: { dir: string }) =>
      run(async (out) => {
        await operatorCall(stackPaths(o.dir).operatorSocket, 'tokens.revoke', { name });
        out.done(`token ${name} revoked`);
        return 0;
      })(),
    );
  return cmd;
}
