/**
 * The agent socket's messages, as the published Faramesh SDKs speak them: JSON-RPC 2.0 `govern`
 * and `poll_defer` (and `spawn_ended`, ours), and the older line form `{"type": "govern" | "poll_defer", …}`. Every message is
 * validated; what does not validate gets a structured error, never a decision. Methods that would
 * resolve approvals or control the daemon do not exist here (the operator channel has them).
 */
import * as z from 'zod';
import { roundedNumber, unfaithfulJson, type DecisionRequest, type DecisionSignal, type StructuredDenial } from '@faramesh/protocol';

const text = z.string().min(1).max(4096);
const id = z.string().min(1).max(256);
/**
 * A JSON object, taken as it is: parsed JSON has only string keys, and unfaithfulJson has vetted it.
 * (A record schema would check and copy every member: most of the cost of a wide 1 MiB request.)
 */
export const jsonObject = z.custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), {
  message: 'expected an object',
});

export const GovernParams = z.object({
  agent_id: id,
  tool: z.string().max(512).optional(),
  operation: z.string().max(512).optional(),
  tool_id: z.string().max(512).optional(),
  args: jsonObject.optional(),
  action_type: z.enum(['tool_call', 'delegate', 'completion_event', 'model_call']).optional(),
  call_id: id.optional(),
  session_id: id.optional(),
  request_id: id.optional(),
  tags: z.array(text).max(64).optional(),
  principal: jsonObject.optional(),
  principal_token: z.string().max(16384).optional(),
  delegation_token: z.string().max(16384).optional(),
  model: text.optional(),
  model_name: text.optional(),
  cost_usd: z.number().nonnegative().finite().optional(),
  usage: z
    .object({
      model: text.optional(),
      input_tokens: z.number().int().nonnegative().optional(),
      output_tokens: z.number().int().nonnegative().optional(),
    })
    .optional(),
});
export type GovernParams = z.infer<typeof GovernParams>;

export const PollParams = z.object({ agent_id: id.optional(), defer_token: id });
export type PollParams = z.infer<typeof PollParams>;

/** Children the agent spawned (permitted `spawn/<type>` calls) that have ended: `count` of them, default one. */
export const SpawnEndedParams = z.object({ agent_id: id, count: z.number().int().min(1).max(1000).optional() });
export type SpawnEndedParams = z.infer<typeof SpawnEndedParams>;

const JsonRpc = z.object({
  jsonrpc: z.literal('2.0'),
  id: z.union([z.string().max(256), z.number(), z.null()]).optional(),
  method: z.string().max(128),
  params: z.unknown().optional(),
});
const Legacy = z.looseObject({ type: z.string().max(128) });

/** `legacy`: the `{"type": …}` line form, answered with a bare object instead of a JSON-RPC envelope. */
export type AgentMessage =
  | { kind: 'govern'; rpcId?: string | number | null; legacy: boolean; params: GovernParams }
  | { kind: 'poll'; rpcId?: string | number | null; legacy: boolean; params: PollParams }
  | { kind: 'spawn_ended'; rpcId?: string | number | null; legacy: boolean; params: SpawnEndedParams }
  | { kind: 'error'; rpcId?: string | number | null; legacy: boolean; rpcCode: number; message: string };

/** JSON-RPC error codes. */
export const RPC = { parse: -32700, invalidRequest: -32600, methodNotFound: -32601, invalidParams: -32602, server: -32000 } as const;

const OPERATOR_ONLY = new Set(['approve_defer', 'approve', 'deny', 'approvals', 'apply', 'reload', 'shutdown', 'stop', 'kill']);

export function parseAgentMessage(line: string): AgentMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return { kind: 'error', legacy: false, rpcCode: RPC.parse, message: 'the request is not JSON' };
  }
  const rpc = JsonRpc.safeParse(raw);
  const legacy = rpc.success ? undefined : Legacy.safeParse(raw);
  if (!rpc.success && !legacy?.success)
    return { kind: 'error', legacy: false, rpcCode: RPC.invalidRequest, message: 'expected a JSON-RPC 2.0 request or {"type": …}' };
  const method = rpc.success ? rpc.data.method : legacy!.data!.type;
  const params = rpc.success ? rpc.data.params : raw;
  const rpcId = rpc.success ? rpc.data.id : undefined;
  const isLegacy = !rpc.success;
  const invalid = (error: z.ZodError): AgentMessage => ({
    kind: 'error',
    rpcId,
    legacy: isLegacy,
    rpcCode: RPC.invalidParams,
    message: `invalid ${method} params: ${z.prettifyError(error).replace(/\n/g, '; ')}`,
  });
  if (method === 'govern') {
    // Two keys one name apart in case or Unicode form (`amount`, `Amount`): a lenient decoder (Go's
    // encoding/json takes the last that folds to the field) could run the tool on the one not judged.
    const unfaithful = unfaithfulJson(params, 'params', { foldedKeys: true }) ?? roundedNumber(line);
    if (unfaithful) return { kind: 'error', rpcId, legacy: isLegacy, rpcCode: RPC.invalidParams, message: unfaithful };
    const p = GovernParams.safeParse(params);
    return p.success ? { kind: 'govern', rpcId, legacy: isLegacy, params: p.data } : invalid(p.error);
  }
  if (method === 'poll_defer') {
    const p = PollParams.safeParse(params);
    return p.success ? { kind: 'poll', rpcId, legacy: isLegacy, params: p.data } : invalid(p.error);
  }
  if (method === 'spawn_ended') {
    const p = SpawnEndedParams.safeParse(params);
    return p.success ? { kind: 'spawn_ended', rpcId, legacy: isLegacy, params: p.data } : invalid(p.error);
  }
  return {
    kind: 'error',
    rpcId,
    legacy: isLegacy,
    rpcCode: RPC.methodNotFound,
    message: OPERATOR_ONLY.has(method)
      ? `'${method}' is not available on the agent socket: approvals and daemon control are on the operator channel only`
      : `unknown method '${method}'`,
  };
}

/** `govern` params from another channel (the HTTP API): validated, with the policy tool id. */
export function parseGovernParams(raw: unknown): { ok: true; params: GovernParams; tool: string } | { ok: false; message: string } {
  const unfaithful = unfaithfulJson(raw, 'request', { foldedKeys: true });
  if (unfaithful) return { ok: false, message: unfaithful };
  const p = GovernParams.safeParse(raw);
  if (!p.success) return { ok: false, message: `invalid evaluate request: ${z.prettifyError(p.error).replace(/\n/g, '; ')}` };
  const tool = toolIdOf(p.data);
  if (!tool) return { ok: false, message: 'the request needs `tool` (with `operation`) or `tool_id`' };
  return { ok: true, params: p.data, tool };
}

/**
 * The policy's tool id. The SDKs split `stripe/refund` into tool `stripe` and operation `refund`,
 * and send operation `invoke` for a bare name; `tool_id` alone (the HTTP form) may end in `/invoke`.
 */
export function toolIdOf(p: Pick<GovernParams, 'tool' | 'operation' | 'tool_id' | 'action_type' | 'args'>): string | undefined {
  // A completion event is not a call to a tool, whatever tool it names: recorded as `completion`, it
  // can never read in the log as a permit of a tool the policy denies.
  if (p.action_type === 'completion_event') return 'completion';
  // Nor is a delegation: it is decided and recorded as `delegate/<target_agent>`. Decided as the tool
  // it names (`task/plan`), it would mint a token for the worker past `defer delegate/writer`, and the
  // log would show a permitted `task/plan`.
  const target = p.action_type === 'delegate' ? p.args?.target_agent : undefined;
  if (typeof target === 'string' && target !== '') return `delegate/${target}`;
  if (p.tool) return !p.operation || p.operation === 'invoke' ? p.tool : `${p.tool}/${p.operation}`;
  if (p.tool_id) return p.tool_id.endsWith('/invoke') ? p.tool_id.slice(0, -'/invoke'.length) : p.tool_id;
  return undefined;
}

export function decisionRequest(p: GovernParams, tool: string): DecisionRequest {
  // principal.* is set by the daemon from what it verified (core/principals.ts), never copied from the call.
  const request: DecisionRequest = { agent_id: p.agent_id, tool, args: p.args ?? {} };
  const model = p.model ?? p.model_name;
  if (model) request.model = model;
  if (p.session_id) request.session_id = p.session_id;
  if (p.tags) request.tags = p.tags;
  if (p.action_type) request.action = p.action_type;
  if (p.cost_usd !== undefined) request.cost_usd = p.cost_usd;
  if (p.usage) request.usage = p.usage;
  return request;
}

/** The denial of a call the daemon is not ready to decide (starting, or stopping), on every channel. */
export const NOT_READY = {
  code: 'DAEMON_NOT_READY',
  human_message: 'denied: daemon is initializing, retry in a moment',
  resolution: { type: 'retry_after', retry_after_seconds: 2 },
} satisfies StructuredDenial;

/** The same, once the daemon is stopping (a restart's drain): the next one will answer. */
export const STOPPING = { ...NOT_READY, human_message: 'denied: daemon is stopping, retry in a moment' } satisfies StructuredDenial;

/** What `govern` answers: effects are only ever PERMIT, DENY or DEFER. */
export interface GovernResult {
  call_id: string;
  action_id?: string;
  effect: 'PERMIT' | 'DENY' | 'DEFER';
  reason_code?: string;
  rule_ref?: string;
  rule_id?: string;
  defer_token?: string;
  denial_token?: string;
  /** A permitted `delegate/<agent>` call: the token that agent sends to prove the delegation. */
  delegation_token?: string;
  structured_denial?: StructuredDenial;
  /** Soft signals that did not change the effect (BUDGET_WARNING as errors.md shows it). */
  signals?: DecisionSignal[];
  /** A brokered credential for this one call (never recorded; the HTTP proxy injects it and keeps it). */
  credential?: { value: string; header: string; expires_at: string };
  latency_ms: number;
}

export function rpcResult(rpcId: string | number | null | undefined, result: unknown): string {
  return JSON.stringify({ jsonrpc: '2.0', id: rpcId ?? null, result });
}

export function rpcError(rpcId: string | number | null | undefined, code: number, message: string): string {
  return JSON.stringify({ jsonrpc: '2.0', id: rpcId ?? null, error: { code, message } });
}

/**
 * `{"jsonrpc": "2.0", "id": …, "method": "keep_open"}` as a connection's first line: the client will
 * send more requests on it (each answered with its own id, in the order decisions finish).
 */
export function keepOpenAck(line: string): string | undefined {
  if (!line.includes('keep_open')) return undefined;
  let raw: { jsonrpc?: unknown; id?: unknown; method?: unknown };
  try {
    raw = JSON.parse(line) as typeof raw;
  } catch {
    return undefined;
  }
  if (raw?.jsonrpc !== '2.0' || raw.method !== 'keep_open') return undefined;
  const id = typeof raw.id === 'string' || typeof raw.id === 'number' ? raw.id : null;
  return rpcResult(id, { keep_open: true });
}
