/**
 * The operator channel: a Unix socket only the operator's user can open (mode 0600 in a 0700
 * directory). One JSON request per connection, `{"method": …, "params": {…}}`; the reply is
 * `{"ok": true, "result": …}` or `{"ok": false, "error": {"code", "message"}}`. Approving, denying,
 * applying policy and stopping the daemon exist only here.
 */
import * as z from 'zod';

const reason = z.string().max(4096).optional();
const by = z.string().min(1).max(256);

export const OperatorRequest = z.discriminatedUnion('method', [
  z.object({ method: z.literal('status'), params: z.object({}).optional() }),
  z.object({
    method: z.literal('approvals.list'),
    params: z
      .object({ status: z.enum(['pending', 'approved', 'denied', 'expired', 'all']).optional(), agent: z.string().optional() })
      .optional(),
  }),
  z.object({ method: z.literal('approvals.show'), params: z.object({ id: z.string().min(1).max(256) }) }),
  z.object({ method: z.literal('approvals.approve'), params: z.object({ id: z.string().min(1).max(256), by, reason }) }),
  z.object({ method: z.literal('approvals.deny'), params: z.object({ id: z.string().min(1).max(256), by, reason }) }),
  /** Load the signed compiled policy apply just wrote, and swap it in. */
  z.object({ method: z.literal('apply'), params: z.object({}).optional() }),
  z.object({ method: z.literal('stop'), params: z.object({ reason: z.string().max(256).optional() }).optional() }),
  /** HTTP bearer tokens: an agent's (its requests are that agent's) or an operator's. The secret is in the reply only. */
  z.object({
    method: z.literal('tokens.issue'),
    params: z.object({
      role: z.enum(['agent', 'operator']),
      name: z.string().min(1).max(64),
      agent: z.string().min(1).max(256).optional(),
    }),
  }),
  z.object({ method: z.literal('tokens.list'), params: z.object({}).optional() }),
  /** Agents: their standing, and quiescing one (its calls are denied until resumed). */
  z.object({ method: z.literal('agents.list'), params: z.object({}).optional() }),
  z.object({ method: z.literal('agents.quiesce'), params: z.object({ id: z.string().min(1).max(256), by, reason }) }),
  z.object({ method: z.literal('agents.resume'), params: z.object({ id: z.string().min(1).max(256), by, reason }) }),
  /** Children an agent spawned have ended (it crashed before saying so): their places under max_concurrent are free. */
  z.object({
    method: z.literal('agents.spawn_ended'),
    params: z.object({ id: z.string().min(1).max(256), by, count: z.number().int().min(1).max(1000).optional() }),
  }),
  /** Policy versions applied, oldest first; rollback re-applies one (default: the one before the current). */
  z.object({ method: z.literal('policy.history'), params: z.object({}).optional() }),
  z.object({ method: z.literal('rollback'), params: z.object({ to: z.string().min(1).max(128).optional(), by }) }),
  z.object({ method: z.literal('tokens.revoke'), params: z.object({ name: z.string().min(1).max(64) }) }),
  /** The agent supervisor: launch (the stack's supervised_command, or a command), stop (one, or all), list. */
  z.object({
    method: z.literal('supervisor_launch'),
    params: z
      .object({ command: z.union([z.string().min(1).max(8192), z.array(z.string().max(8192)).min(1).max(256)]).optional() })
      .optional(),
  }),
  z.object({
    method: z.literal('supervisor_stop'),
    params: z
      .object({ id: z.string().min(1).max(64).optional(), grace_ms: z.number().int().nonnegative().max(120_000).optional() })
      .optional(),
  }),
  z.object({ method: z.literal('supervisor_list'), params: z.object({}).optional() }),
  /** Move sealed log segments older than `older_than_s` to an archive file (to `archive_dir` on the socket only). */
  z.object({
    method: z.literal('audit.compact'),
    params: z.object({
      older_than_s: z
        .number()
        .int()
        .nonnegative()
        .max(100 * 365 * 86_400),
      archive_dir: z.string().min(1).max(4096).optional(),
      by,
    }),
  }),
  /**
   * A hypothetical call decided as a call would be now (the policy in force, the live rate, budget
   * and selector state, the clock or `now_ms`), with every step traced. Nothing changes and nothing
   * is recorded. The claims are taken as the operator states them.
   */
  z.object({
    method: z.literal('explain'),
    params: z.object({
      agent_id: z.string().min(1).max(256),
      tool: z.string().min(1).max(512),
      args: z.record(z.string(), z.unknown()).optional(),
      principal: z.record(z.string(), z.unknown()).optional(),
      model: z.string().min(1).max(256).optional(),
      session_id: z.string().min(1).max(256).optional(),
      tags: z.array(z.string().max(256)).max(64).optional(),
      now_ms: z.number().int().nonnegative().optional(),
    }),
  }),
  /** The newest records (a window of the last 10,000), and a long poll for the next ones. */
  z.object({
    method: z.literal('audit.tail'),
    params: z
      .object({
        after: z.number().int().nonnegative().optional(),
        limit: z.number().int().positive().max(10_000).optional(),
        wait_ms: z.number().int().nonnegative().max(25_000).optional(),
        agent: z.string().min(1).max(256).optional(),
        tool: z.string().min(1).max(512).optional(),
        effect: z.enum(['permit', 'defer', 'deny']).optional(),
      })
      .optional(),
  }),
]);
export type OperatorRequest = z.infer<typeof OperatorRequest>;

export type OperatorReply = { ok: true; result: unknown } | { ok: false; error: { code: string; message: string } };

/** A request the daemon refuses, with the code the reply carries. */
export class OperatorRefusal extends Error {
  override name = 'OperatorRefusal';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const operatorError = (code: string, message: string): string => JSON.stringify({ ok: false, error: { code, message } });
export const operatorResult = (result: unknown): string => JSON.stringify({ ok: true, result });
