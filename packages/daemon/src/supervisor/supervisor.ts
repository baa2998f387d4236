/**
 * The agent supervisor: the daemon starts agents itself (`runtime { supervised_command }` after
 * READY, or `supervisor_launch` on the operator channel) through the stack's launcher, so a
 * supervised agent gets exactly the sandbox of `.faramesh/bin/agent`. It reaps and logs exits,
 * restarts with exponential backoff, and on DRAINING stops its children (SIGINT, then SIGTERM, then
 * SIGKILL) before the daemon goes. The children's environment is an allowlist, never the daemon's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { eachLine } from './output-lines.js';

export type RestartPolicy = 'on-failure' | 'always' | 'never';

export interface SupervisorOptions {
  /** `.faramesh/bin/agent`: the sandbox (or not) that the stack's profile asks for. */
  launcher: string;
  cwd: string;
  /** The children's environment (built from an allowlist). */
  env: NodeJS.ProcessEnv;
  restart: RestartPolicy;
  say(line: string): void;
  /** The first restart waits this long, doubling up to maxBackoffMs; a run of 10 s resets it. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

export interface ChildInfo {
  id: string;
  argv: string[];
  state: 'running' | 'backoff' | 'exited' | 'stopped';
  pid?: number;
  started_at?: string;
  restarts: number;
  last_exit?: { code: number | null; signal: string | null; at: string };
}

interface Child extends ChildInfo {
  proc?: ChildProcess;
  timer?: NodeJS.Timeout;
  stopping?: boolean;
  startedMs: number;
  failures: number;
  exited?: Promise<void>;
}

const STABLE_MS = 10_000;

export class Supervisor {
  private readonly children = new Map<string, Child>();
  private next = 1;

  constructor(private readonly o: SupervisorOptions) {}

  launch(argv: string[]): ChildInfo {
    if (argv.length === 0) throw new Error('nothing to launch: the command is empty');
    const child: Child = { id: `agent-${this.next++}`, argv, state: 'backoff', restarts: 0, startedMs: 0, failures: 0 };
    this.children.set(child.id, child);
    this.start(child);
    return info(child);
  }

  list(): ChildInfo[] {
    return [...this.children.values()].map(info);
  }

  /** Stop one child (or all): SIGINT, SIGTERM after half the grace, SIGKILL at its end. */
  async stop(id?: string, graceMs = 10_000): Promise<ChildInfo[]> {
    const targets = id === undefined ? [...this.children.values()] : [this.children.get(id)].filter((c): c is Child => !!c);
    if (id !== undefined && targets.length === 0) throw new Error(`no supervised agent ${id}`);
    await Promise.all(targets.map((c) => this.stopOne(c, graceMs)));
    return targets.map(info);
  }

  private start(c: Child): void {
    c.timer = undefined;
    const proc = spawn(this.o.launcher, ['--', ...c.argv], {
      cwd: this.o.cwd,
      env: this.o.env,
      // Its own process group, so stopping it reaches everything it started.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    c.proc = proc;
    c.pid = proc.pid;
    c.state = 'running';
    c.startedMs = Date.now();
    c.started_at = new Date(c.startedMs).toISOString();
    this.o.say(`supervisor: started ${c.id} (pid ${proc.pid}): ${c.argv.join(' ')}`);
    for (const stream of [proc.stdout!, proc.stderr!]) eachLine(stream, (l) => this.o.say(`${c.id}[${proc.pid}]: ${l}`));
    c.exited = new Promise((resolve) => {
      proc.once('error', (e) => this.o.say(`supervisor: ${c.id} could not start: ${e.message}`));
      // The agent has ended when its process exits: a process it left behind (in a session of its
      // own) may hold its output open for ever, and waiting for that ('close') would hide a crash
      // and hold a stop, and the daemon's drain with it. A launcher that could not start at all
      // emits 'close' alone. Output still arriving is logged as before.
      let ended = false;
      const onEnd = (code: number | null, signal: NodeJS.Signals | null) => {
        if (ended) return;
        ended = true;
        // Its output may stay open (held by what it left): read on, but never keep the daemon's
        // process alive for it once the daemon has stopped.
        for (const stream of [proc.stdout, proc.stderr]) (stream as { unref?: () => void } | null)?.unref?.();
        // What the run left in its process group (a background job) goes with it, as the sandbox's
        // goes with a sandboxed agent: now, while the group still holds its id. Remembered for a
        // later stop instead, the id could by then name another program's group.
        if (proc.pid !== undefined) kill(-proc.pid, 'SIGKILL');
        c.proc = undefined;
        c.pid = undefined;
        c.last_exit = { code, signal, at: new Date().toISOString() };
        this.o.say(`supervisor: ${c.id} exited (${signal ? `signal ${signal}` : `code ${code}`})`);
        this.afterExit(c, code === 0 && !signal);
        resolve();
      };
      proc.once('exit', onEnd);
      proc.once('close', onEnd);
    });
  }

  private afterExit(c: Child, clean: boolean): void {
    if (c.stopping) {
      c.state = 'stopped';
      return;
    }
    const restart = this.o.restart === 'always' || (this.o.restart === 'on-failure' && !clean);
    if (!restart) {
      c.state = 'exited';
      return;
    }
    c.failures = Date.now() - c.startedMs >= STABLE_MS ? 1 : c.failures + 1;
    const delay = Math.min(this.o.maxBackoffMs ?? 30_000, (this.o.backoffMs ?? 1000) * 2 ** (c.failures - 1));
    c.state = 'backoff';
    c.restarts++;
    this.o.say(`supervisor: restarting ${c.id} in ${delay} ms (restart ${c.restarts})`);
    c.timer = setTimeout(() => this.start(c), delay);
    c.timer.unref();
  }

  private async stopOne(c: Child, graceMs: number): Promise<void> {
    c.stopping = true;
    if (c.timer) clearTimeout(c.timer);
    if (!c.proc || c.pid === undefined) {
      c.state = c.state === 'running' ? 'stopped' : c.state === 'backoff' ? 'stopped' : c.state;
      return;
    }
    const pid = c.pid;
    const exited = c.exited!;
    const within = (ms: number) =>
      Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
    // Once the agent is gone, what it started and left in its process group (a helper that ignored
    // the SIGINT, as a shell's background jobs do) goes too: nothing outlives the stop.
    const sweep = () => kill(-pid, 'SIGKILL');
    signalAgent(pid, 'SIGINT');
    if (await within(graceMs / 2)) return sweep();
    signalAgent(pid, 'SIGTERM');
    if (await within(graceMs / 2)) return sweep();
    signalTree(pid, 'SIGKILL');
    await exited;
    sweep();
  }
}

const info = (c: Child): ChildInfo => ({
  id: c.id,
  argv: c.argv,
  state: c.state,
  ...(c.pid !== undefined ? { pid: c.pid } : {}),
  ...(c.started_at ? { started_at: c.started_at } : {}),
  restarts: c.restarts,
  ...(c.last_exit ? { last_exit: c.last_exit } : {}),
});

/** Every process below `root`, deepest last, from /proc. */
function descendants(root: number): { pid: number; comm: string }[] {
  const kids = new Map<number, { pid: number; comm: string }[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      kids.set(ppid, [...(kids.get(ppid) ?? []), { pid: Number(name), comm }]);
    } catch {
      // gone meanwhile
    }
  }
  const out: { pid: number; comm: string }[] = [];
  const walk = (p: number) => {
    for (const k of kids.get(p) ?? []) {
      out.push(k);
      walk(k.pid);
    }
  };
  walk(root);
  return out;
}

const kill = (pid: number, sig: NodeJS.Signals) => {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
};

/**
 * A polite signal for the agent itself. bubblewrap's own processes would answer it by tearing the
 * sandbox down at once (SIGKILL to the agent), so they are skipped: the agent gets the signal, and
 * bubblewrap leaves when it exits.
 */
function signalAgent(root: number, sig: NodeJS.Signals): void {
  const tree = [{ pid: root, comm: readComm(root) }, ...(process.platform === 'linux' ? descendants(root) : [])];
  for (const p of tree) if (p.comm !== 'bwrap') kill(p.pid, sig);
}

function signalTree(root: number, sig: NodeJS.Signals): void {
  for (const p of process.platform === 'linux' ? descendants(root) : []) kill(p.pid, sig);
  kill(-root, sig);
  kill(root, sig);
}

function readComm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}
