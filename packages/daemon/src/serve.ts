/**
 * `faramesh serve`: run a stack's daemon in the foreground until it is stopped. SIGTERM and SIGINT
 * drain (finish calls in progress, checkpoint the log) and exit 0; SIGHUP changes nothing — policy
 * is loaded once, and changes only through `faramesh apply` — except under `faramesh dev`, which it
 * stops like SIGINT (the terminal dev runs in was closed), as it does SIGQUIT (Ctrl-\). Exit codes:
 * 0 stopped cleanly, 1 could not start, 3 HALT (initialization exceeded cold_start_deny_window).
 */
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { Daemon, HaltError, type DevOptions } from './daemon.js';

export interface ServeOptions {
  say?: (line: string) => void;
  dev?: DevOptions;
  /** Called once the daemon is READY (and owns the stack). */
  onReady?: (daemon: Daemon) => void;
}

/**
 * A daemon log line as written: its control characters (a line break, a carriage return, an ANSI
 * escape) shown as `\xNN`. Lines quote what agents send (an agent id, a supervised agent's output),
 * and one of those must not forge a line of the daemon's own or rewrite the operator's terminal.
 */
export function logLine(line: string): string {
  return line.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export async function serve(stackDir: string, options: ServeOptions = {}): Promise<number> {
  // The daemon log is stderr (a file under apply): a line it cannot take (a full disk) is lost, and
  // the daemon, which fails closed on its own log, keeps serving.
  // The CLI's own handler (which ends a command whose reader went away, `faramesh audit export | head`)
  // gives way: a daemon whose standard output is a closed pipe or a full file serves on.
  for (const stream of [process.stderr, process.stdout]) {
    stream.removeAllListeners('error');
    stream.on('error', () => {});
  }
  const say = options.say ?? ((l: string) => process.stderr.write(`${l}\n`));
  const stamped = (line: string) => say(`${new Date().toISOString()} ${logLine(line)}`);
  let exit: (code: number) => void = () => {};
  const exited = new Promise<number>((resolve) => (exit = resolve));
  const daemon = new Daemon({ stackDir, say: stamped, onExit: (code) => exit(code), ...(options.dev ? { dev: options.dev } : {}) });
  const stop = (signal: string) => void daemon.drain(signal).then(() => exit(0));
  const onTerm = () => stop('SIGTERM');
  const onInt = () => stop('SIGINT');
  // A dev daemon belongs to its terminal: closing it (SIGHUP) ends the session like Ctrl-C, rather
  // than leaving an orphan holding the stack (apply does not swap into dev, so the hint would not hold).
  const onHup = () => (options.dev ? stop('SIGHUP') : stamped('SIGHUP ignored: the policy is loaded once; change it with faramesh apply'));
  // Ctrl-\ at a dev terminal quits it: like Ctrl-C, so its scratch log goes with it.
  const onQuit = () => stop('SIGQUIT');
  // Unhandled, SIGUSR1 opens Node's inspector on 127.0.0.1:9229, where any local user could run code
  // in the daemon, and SIGUSR2 kills it without a drain. A log rotation that signals it changes nothing.
  const onUsr1 = () => stamped('SIGUSR1 ignored: the daemon reopens nothing and opens no debugger');
  const onUsr2 = () => stamped('SIGUSR2 ignored: the daemon reopens nothing');
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  process.on('SIGHUP', onHup);
  if (options.dev) process.on('SIGQUIT', onQuit);
  process.on('SIGUSR1', onUsr1);
  process.on('SIGUSR2', onUsr2);
  let started = false;
  try {
    await daemon.start();
    started = true;
    // Only once this daemon owns the stack: a second one refused at start must not touch the first's pid file.
    writeFileSync(daemon.paths.pid, `${process.pid}\n`, { mode: 0o600 });
    options.onReady?.(daemon);
    return await exited;
  } catch (e) {
    stamped(`${e instanceof HaltError ? 'HALT' : 'failed to start'}: ${(e as Error).message}`);
    // READY already, its sockets serving agents: left running, it would serve on with the signal
    // handlers below removed (SIGHUP or SIGTERM would end it undrained). It drains.
    if (started) await daemon.drain(`failed to start: ${(e as Error).message}`);
    return e instanceof HaltError ? 3 : 1;
  } finally {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    process.off('SIGHUP', onHup);
    process.off('SIGQUIT', onQuit);
    process.off('SIGUSR1', onUsr1);
    process.off('SIGUSR2', onUsr2);
    if (existsSync(daemon.paths.pid) && readFileSync(daemon.paths.pid, 'utf8').trim() === String(process.pid)) unlinkSync(daemon.paths.pid);
  }
}
