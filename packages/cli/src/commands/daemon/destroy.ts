/**
 * `faramesh destroy [--keep-wal] [--keep-state] [--yes]`: stop the stack's daemon (drain, then
 * SIGKILL after 10 s), then remove what apply made: sockets, the pid file, the launcher and agent
 * files; the audit log unless --keep-wal; the compiled policy, its kept versions, the daemon's state
 * and tokens unless --keep-state. The stack's keys go only with both the log and the state
 * (a kept log must stay verifiable). governance.fms is never touched, and nothing outside the stack
 * directory is: a `wal_dir` elsewhere is kept, and in the stack only the log's own files are removed.
 * The archive files of a compacted log are always kept (and with them the keys).
 */
import { existsSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { isAbsolute, join, relative } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { eachRecord, readBase, removeLog } from '@faramesh/audit';
import { DaemonUnreachableError, operatorCall, runtimeSettings, SettingsError, stackPaths, type StackPaths } from '@faramesh/daemon';
import { makeOut, type Out } from '../../output.js';
import { SYSTEM_PATH } from './apply.js';
import { alive, daemonStatus, StackAccessError, stalePid } from './running.js';

export interface DestroyOptions {
  dir: string;
  keepWal?: boolean;
  keepState?: boolean;
  yes?: boolean;
  noColor?: boolean;
}

export async function destroy(o: DestroyOptions): Promise<number> {
  const out = makeOut(o.noColor);
  const paths = stackPaths(o.dir);
  if (!existsSync(paths.stackDir) || !existsSync(paths.root)) {
    out.error(out.fail(`${paths.stackDir} holds no applied stack (no .faramesh/): nothing to destroy`));
    return 1;
  }
  let walDir: string;
  try {
    walDir = walDirOf(paths);
  } catch (e) {
    if (!(e instanceof WalUnknown)) throw e;
    out.error(out.fail(e.message));
    return 1;
  }
  // Compared through symlinks: a `wal_dir` that is (or passes through) a link to elsewhere is outside.
  const within = relative(realPath(paths.stackDir), realPath(walDir));
  // The stack directory itself counts as inside: there, too, only the log's own files go.
  const walInside = !within.startsWith('..') && !isAbsolute(within);
  const removeWal = !o.keepWal && walInside && existsSync(walDir);
  // Archive files of a compacted log are never removed: they are the log's oldest records.
  let archived: { size: number; dir: string } | undefined;
  try {
    const base = existsSync(walDir) ? readBase(walDir)?.base : undefined;
    if (base && existsSync(base.archive_dir)) archived = { size: base.size, dir: base.archive_dir };
  } catch {
    archived = undefined;
  }
  const keptLog = (existsSync(walDir) && !removeWal) || archived !== undefined;
  // A directory that holds a kept log is not removed with it (however odd the log's place).
  const holdsLog = (p: string) => {
    const r = relative(p, walDir);
    return !r.startsWith('..') && !isAbsolute(r);
  };
  const spared: string[] = [];
  const doomed = [
    paths.runtime,
    `${paths.root}/bin`,
    // --keep-state keeps the compiled artifacts too (cli/destroy.md): the signed policy in force and
    // its kept versions, with the state and tokens that go with them.
    ...(o.keepState ? [] : [paths.compiled, paths.signature, paths.versions, paths.state, paths.tokens]),
    // A log left in place (kept, or outside the stack) keeps the keys that verify it.
    ...(o.keepWal || o.keepState || keptLog ? [] : [`${paths.root}/keys`]),
  ].filter((p) => existsSync(p) && !(keptLog && holdsLog(p) && spared.push(p)));
  if (!o.yes) {
    if (!process.stdin.isTTY) {
      out.error(out.fail('destroy removes files; pass --yes to confirm when not at a terminal'));
      return 1;
    }
    out.print(['This removes:', ...doomed.map((p) => `  ${p}`), ...(removeWal ? [`  the audit log in ${walDir}`] : [])].join('\n'));
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    const answer = await rl.question('Continue? [y/N] ');
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim())) {
      out.print('nothing removed');
      return 1;
    }
  }
  const stopped = await stopDaemon(paths, out);
  if (stopped === false) return 1;
  let records: number | undefined;
  try {
    // Counted a batch at a time: the log may not fit in memory.
    if (existsSync(walDir)) {
      let n = 0;
      eachRecord(walDir, () => n++);
      records = n;
    }
  } catch {
    records = undefined;
  }
  for (const p of doomed) rmSync(p, { recursive: true, force: true });
  if (doomed.includes(paths.runtime)) out.done('runtime socket removed');
  if (!o.keepState) out.done('compiled artifacts removed');
  const count = records === undefined ? '' : ` (${records.toLocaleString('en-US')} records)`;
  if (o.keepWal) out.print(`→ WAL kept at ${walDir}${count ? ` ${count.trim()} preserved for audit` : ''}`);
  else if (!walInside && existsSync(walDir))
    out.print(`→ WAL kept at ${walDir}${count}: it is outside the stack directory, which destroy never touches`);
  else if (removeWal) {
    const others = removeLog(walDir);
    if (records !== undefined) out.done(`WAL removed${count}`);
    if (others.length > 0) out.print(`→ ${walDir} kept: it also holds ${others.length} file(s) that are not the log's`);
  }
  if (archived)
    out.print(`→ archive files kept in ${archived.dir}: they hold the log's first ${archived.size.toLocaleString('en-US')} records`);
  if (o.keepState) out.print('→ compiled policy and state kept (.faramesh/governance.compiled.*, versions, state, tokens)');
  // Budgets, rate limits and quiesced agents are rebuilt from the log: a new log starts them afresh.
  if (o.keepState && removeWal && records !== undefined)
    out.print(
      '→ budgets spent, rate limits and quiesced agents went with the log: the next start counts from zero and every agent is active (--keep-wal keeps them)',
    );
  for (const p of spared) out.print(`→ ${p} kept: it holds the kept log`);
  // An export made for the record (offboarding) verifies only against these keys, now gone.
  if (doomed.includes(`${paths.root}/keys`))
    out.print(
      '→ stack keys removed: an earlier audit export verifies now only if it was an evidence bundle (--include-public-keys) or a copy of .faramesh/keys/audit.pub was kept',
    );
  // The source is never touched, its immutable flag (immutable_config) included: a later `rm -rf`
  // of the stack would fail on it with no word of why.
  const source = join(paths.stackDir, 'governance.fms');
  if (immutable(source)) out.print(`→ ${source} kept, still immutable (immutable_config): lift it with chattr -i to edit or remove it`);
  out.done('stack destroyed');
  return 0;
}

/** Whether `file` carries the immutable flag (Linux; elsewhere, or unreadable: false). */
function immutable(file: string): boolean {
  if (process.platform !== 'linux' || !existsSync(file)) return false;
  try {
    return /^\S*i\S*\s/.test(
      execFileSync('lsattr', [file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, PATH: SYSTEM_PATH } }),
    );
  } catch {
    return false;
  }
}

/** Drain the daemon; SIGKILL it after 10 s. False when it could not be stopped. */
async function stopDaemon(paths: StackPaths, out: Out): Promise<boolean | undefined> {
  let status: Awaited<ReturnType<typeof daemonStatus>>;
  try {
    status = await daemonStatus(paths);
  } catch (e) {
    // Removing the files of a daemon this user cannot see (let alone stop) would be no destroy.
    if (e instanceof StackAccessError) {
      out.error(out.fail(e.message));
      return false;
    }
    status = undefined;
  }
  const pid = status?.pid ?? stalePid(paths);
  if (pid === undefined || !alive(pid)) return undefined;
  try {
    if (status) await operatorCall(paths.operatorSocket, 'stop', { reason: 'faramesh destroy' });
    else process.kill(pid, 'SIGTERM');
  } catch (e) {
    if (!(e instanceof DaemonUnreachableError)) throw e;
    process.kill(pid, 'SIGTERM');
  }
  const deadline = Date.now() + 10_000;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  if (alive(pid)) {
    process.kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
  }
  if (alive(pid)) {
    out.error(out.fail(`the daemon (pid ${pid}) could not be stopped`));
    return false;
  }
  out.done(`daemon stopped (pid ${pid})`);
  return true;
}

/** A path with its symlinks resolved (as far as it exists). */
function realPath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/**
 * The stack's WAL directory, from the compiled policy apply wrote (else the default). A `wal_dir`
 * this environment cannot resolve (an `env()` unset here) is the one the running daemon named, or
 * an error: guessing the default would leave the real log behind without the keys that verify it.
 */
function walDirOf(paths: StackPaths): string {
  let runtime: Parameters<typeof runtimeSettings>[0];
  try {
    runtime = (JSON.parse(readFileSync(paths.compiled, 'utf8')) as { ir: { runtime: Parameters<typeof runtimeSettings>[0] } }).ir.runtime;
  } catch {
    return runtimeSettings({}, paths.stackDir, process.env).walDir;
  }
  try {
    // wal_dir alone: another runtime field's env() unset here (http_listen, mode…) says nothing of the log.
    const wal = runtime?.wal_dir;
    return runtimeSettings(wal === undefined ? {} : { wal_dir: wal }, paths.stackDir, process.env).walDir;
  } catch (e) {
    if (!(e instanceof SettingsError)) throw e;
    try {
      const running = readFileSync(paths.walPointer, 'utf8').trim();
      if (running) return running;
    } catch {
      // No daemon running: nothing names the log.
    }
    throw new WalUnknown(`cannot tell where the audit log is: ${e.message}. Nothing was removed: set it as it was at apply`);
  }
}

class WalUnknown extends Error {}
