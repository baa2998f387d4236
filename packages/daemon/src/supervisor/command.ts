/**
 * `supervised_command`, split into argv with the shell's quoting rules (quotes, backslashes), but
 * never run by a shell: pipes, redirections, `;` and `&&` are refused rather than passed as words,
 * and `$VAR` stays literal (the agent's environment is the launcher's business, not the daemon's).
 */
import { parse } from 'shell-quote';

export function commandArgv(command: string): string[] {
  const argv: string[] = [];
  for (const t of parse(command, (name) => `$${name}`)) {
    if (typeof t === 'string') argv.push(t);
    else if ('comment' in t) break;
    else if (t.op === 'glob') argv.push(t.pattern);
    else throw new Error(`supervised_command: '${t.op}' is shell syntax, and the command is run without a shell (wrap it in sh -c '…')`);
  }
  if (argv.length === 0) throw new Error('supervised_command is empty');
  return argv;
}
