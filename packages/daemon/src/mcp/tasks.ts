/**
 * MCP tasks the proxy has seen start: a permitted `tools/call` whose reply was a task rather than a
 * result. A task ends when the upstream or the client reports a terminal status (a `tasks/get` or
 * `tasks/result` reply, `notifications/tasks/status`, or the `faramesh/tasks/complete` extension).
 * One that outlives its TTL, or its session, without an end is a RUNTIME_GAP in the log. Open tasks
 * of tools not marked read-only, and permitted calls to such tools still awaiting their answer, are
 * the agent's uncommitted writes for its completion gate.
 */
import type { McpTask } from '@faramesh/audit';
import { timerAt } from '../core/timers.js';
import { daemonNow } from '../core/clock.js';

export type TaskEnd = 'completed' | 'failed' | 'cancelled';
export const TERMINAL = new Set<string>(['completed', 'failed', 'cancelled']);

type TaskEvent = Pick<McpTask, 'agent_id' | 'server' | 'task_id' | 'tool' | 'status' | 'action_id' | 'code'>;

interface Open {
  agent: string;
  server: string;
  taskId: string;
  tool: string;
  writes: boolean;
  actionId?: string;
  timer?: NodeJS.Timeout;
  /** When its TTL runs out (ms since the epoch), if it has one. */
  deadline?: number;
}

/** How long a write task left running by a closed session holds its agent's completion gate, when it named no TTL. */
export const ORPHAN_HOLD_MS = 3_600_000;

export class TaskBook {
  private readonly open = new Map<string, Open>();
  /**
   * Write tasks of a remote upstream whose session closed: the server may still be running them, so
   * they stay the agent's uncommitted writes until their TTL (or ORPHAN_HOLD_MS) has passed.
   */
  private readonly orphans = new Map<string, Open>();

  /** Permitted calls to tools that may write, sent upstream and not answered yet: their agent and what the gate names. */
  private readonly calls = new Map<string, { agent: string; label: string }>();

  constructor(private readonly record: (event: TaskEvent) => void) {}

  /** A permitted call to `tool` (server/name) went upstream; until `callAnswered`, it is a write under way. */
  callSent(session: string, id: string | number, agent: string, tool: string): void {
    this.calls.set(callKey(session, id), { agent, label: `call ${JSON.stringify(id)} to ${tool}` });
  }

  /** The call was answered, failed, or will never be answered (cancelled, its server lost). */
  callAnswered(session: string, id: string | number): void {
    this.calls.delete(callKey(session, id));
  }

  /** `session` keeps task ids of different upstream connections apart. */
  started(session: string, t: Omit<Open, 'timer'> & { ttlMs?: number | null }): void {
    const key = `${session}\u0000${t.taskId}`;
    if (this.open.has(key)) return;
    const entry: Open = {
      agent: t.agent,
      server: t.server,
      taskId: t.taskId,
      tool: t.tool,
      writes: t.writes,
      ...(t.actionId ? { actionId: t.actionId } : {}),
    };
    if (typeof t.ttlMs === 'number' && t.ttlMs >= 0) {
      entry.deadline = daemonNow() + t.ttlMs;
      entry.timer = timerAt(
        entry.deadline,
        () => this.end(key, 'expired'),
        (timer) => (entry.timer = timer),
      );
    }
    this.open.set(key, entry);
    this.emit(entry, 'working');
  }

  /** A terminal status for a task, if the proxy was tracking it. */
  ended(session: string, taskId: string, status: TaskEnd): void {
    this.end(`${session}\u0000${taskId}`, status);
  }

  /**
   * The session is over: whatever it left running can no longer report an end (`abandoned`). A
   * stdio upstream ended with it; a remote one (`outlives`) may still be at work, so its write
   * tasks keep holding the completion gate until their TTL has passed.
   */
  sessionClosed(session: string, outlives = false): void {
    for (const key of [...this.calls.keys()]) if (key.startsWith(`${session}\u0000`)) this.calls.delete(key);
    for (const key of [...this.open.keys()]) {
      if (!key.startsWith(`${session}\u0000`)) continue;
      const t = this.open.get(key)!;
      this.end(key, 'abandoned');
      if (!outlives || !t.writes) continue;
      const left = t.deadline === undefined ? ORPHAN_HOLD_MS : t.deadline - daemonNow();
      if (left <= 0) continue;
      t.timer = timerAt(
        daemonNow() + left,
        () => this.orphans.delete(key),
        (timer) => (t.timer = timer),
      );
      this.orphans.set(key, t);
    }
  }

  /** The agent's open tasks that may write (for `no_uncommitted_writes`). */
  openWrites(agent: string): string[] {
    const tasks = [...this.open.values(), ...this.orphans.values()].filter((t) => t.agent === agent && t.writes);
    const calls = [...this.calls.values()].filter((c) => c.agent === agent);
    return [...tasks.map((t) => `${t.server}/${t.taskId}`), ...calls.map((c) => c.label)];
  }

  close(): void {
    for (const t of [...this.open.values(), ...this.orphans.values()]) clearTimeout(t.timer);
    this.open.clear();
    this.orphans.clear();
    this.calls.clear();
  }

  private end(key: string, status: TaskEnd | 'expired' | 'abandoned'): void {
    const t = this.open.get(key);
    if (!t) return;
    clearTimeout(t.timer);
    this.open.delete(key);
    this.emit(t, status);
  }

  private emit(t: Open, status: McpTask['status']): void {
    this.record({
      agent_id: t.agent,
      server: t.server,
      task_id: t.taskId,
      tool: t.tool,
      status,
      ...(t.actionId ? { action_id: t.actionId } : {}),
      ...(status === 'expired' || status === 'abandoned' ? { code: 'RUNTIME_GAP' as const } : {}),
    });
  }
}

/** Request ids are strings or numbers: `1` and `"1"` are different calls. */
const callKey = (session: string, id: string | number) => `${session}\u0000call\u0000${JSON.stringify(id)}`;
