/**
 * `faramesh supervisor list|launch|stop`: the daemon's agent supervisor, over the operator channel.
 * `faramesh __agent-exec [--dir] -- <command…>`: the stack's launcher, for scripts that follow the
 * reference's spelling; it is the same path as `.faramesh/bin/agent` (and the supervisor's).
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { Command } from 'commander';
import type { ChildInfo } from '@faramesh/daemon';
import { operatorCall, stackPaths } from '@faramesh/daemon/client';
import { formatOption, makeOut, table, type Format } from '../../output.js';
import { guarded } from './operator.js';

export function supervisorCommand(setCode: (code: number) => void, noColor: () => boolean): Command {
  const cmd = new Command('supervisor').description("the daemon's agent supervisor (operator channel)");
  const run = (f: Parameters<typeof guarded>[1]) => async () => setCode(await guarded(makeOut(noColor()), f));
  const call = <T>(dir: string, method: string, params: object = {}) => operatorCall<T>(stackPaths(dir).operatorSocket, method, params);
  const print = (out: ReturnType<typeof makeOut>, children: ChildInfo[], format?: Format) => {
    if (format === 'json') return out.print(JSON.stringify({ children }, null, 2));
    out.print(
      children.length === 0
        ? 'no supervised agents'
        : table(
            ['ID', 'STATE', 'PID', 'RESTARTS', 'LAST EXIT', 'COMMAND'],
            children.map((c) => [
              c.id,
              c.state,
              c.pid === undefined ? '—' : String(c.pid),
              String(c.restarts),
              c.last_exit ? (c.last_exit.signal ?? `code ${c.last_exit.code}`) : '—',
              c.argv.join(' '),
            ]),
          ),
    );
  };
  cmd
    .command('list')
    .description('the supervised agents')
    .option('--dir <dir>', 'stack directory', '.')
    .addOption(formatOption())
    .action((o: { dir: string; format: Format }) =>
      run(async (out) => {
        print(out, (await call<{ children: ChildInfo[] }>(o.dir, 'supervisor_list')).children, o.format);
        return 0;
      })(),
    );
  cmd
    .command('launch')
    .description("start an agent (default: the stack's supervised_command) in the stack's sandbox")
    .option('--dir <dir>', 'stack directory', '.')
    .argument('[command...]', 'the command, after --')
    .action((command: string[], o: { dir: string }) =>
      run(async (out) => {
        print(out, [await call<ChildInfo>(o.dir, 'supervisor_launch', command.length ? { command } : {})]);
        return 0;
      })(),
    );
  cmd
    .command('stop')
    .description('stop a supervised agent (all, without an id): SIGINT, then SIGTERM, then SIGKILL')
    .option('--dir <dir>', 'stack directory', '.')
    .argument('[id]')
    .action((id: string | undefined, o: { dir: string }) =>
      run(async (out) => {
        print(out, (await call<{ children: ChildInfo[] }>(o.dir, 'supervisor_stop', id ? { id } : {})).children);
        return 0;
      })(),
    );
  return cmd;
}

/** Run the stack's launcher with this terminal, passing signals on; its exit code is ours. */
export function agentExec(dir: string, command: string[]): Promise<number> {
  if (command.length === 0) {
    process.stderr.write('usage: faramesh __agent-exec [--dir DIR] -- <command...>\n');
    return Promise.resolve(64);
  }
  const child = spawn(stackPaths(dir).launcher, ['--', ...command], { stdio: 'inherit' });
  const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, forward(sig));
  return new Promise((resolve) => {
    child.once('error', (e) => {
      process.stderr.write(`faramesh: cannot run the launcher (${e.message}): run faramesh apply first\n`);
      resolve(70);
    });
    child.once('close', (code, signal) => resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)));
  });
}
