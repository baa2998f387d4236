/**
 * One MCP client session through the proxy: the client's transport on one side, its own upstream
 * connection on the other, and governance between them.
 * - `tools/call` is a decision for `<server>/<tool>`; a permitted call is forwarded as it came; a
 *   denied or deferred one never reaches the upstream and is answered with a CallToolResult the
 *   model can read (`isError`, text, the structured denial).
 * - `tools/list` replies are filtered to what this agent could ever be permitted or deferred.
 * - Everything else passes through, in both directions, and requests are recorded
 *   (`mcp_traffic`); a method the proxy does not know is recorded as `RUNTIME_GAP`.
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { GovernParams, GovernResult } from '../wire/agent-protocol.js';
import { Upstream, type McpServerSpec } from './upstream.js';

export interface SessionDeps {
  decide(params: GovernParams, tool: string): Promise<GovernResult> | GovernResult;
  /** Could this agent ever be permitted (or deferred) this tool? */
  visible(agent: string, tool: string): boolean;
  filterTools(): boolean;
  /** Note a passed-through request (never delays it). */
  record(entry: { agent_id: string; server: string; method: string; from: 'client' | 'server'; code?: 'RUNTIME_GAP' }): void;
  stackDir: string;
  env: NodeJS.ProcessEnv;
  say(line: string): void;
}

/** Methods of the MCP specification the proxy passes through knowingly. */
const KNOWN = new Set([
  'initialize',
  'ping',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
  'sampling/createMessage',
  'elicitation/create',
  'roots/list',
  'tasks/get',
  'tasks/result',
  'tasks/list',
  'tasks/cancel',
]);
/** Not recorded: the handshake and liveness, and lists (a listing is not an action). */
const QUIET = new Set(['initialize', 'ping', 'tools/list', 'resources/list', 'resources/templates/list', 'prompts/list', 'roots/list']);

type Id = RequestId;
const isRequest = (m: JSONRPCMessage): m is JSONRPCMessage & { id: Id; method: string; params?: Record<string, unknown> } =>
  'method' in m && 'id' in m;
const isNotification = (m: JSONRPCMessage): m is JSONRPCMessage & { method: string } => 'method' in m && !('id' in m);

export class ProxySession {
  readonly upstream: Upstream;
  /** Client requests forwarded and not yet answered: their method, to route and filter the reply. */
  private readonly inFlight = new Map<Id, string>();
  private closed = false;

  constructor(
    readonly agent: string,
    readonly server: McpServerSpec,
    private readonly client: Transport,
    private readonly deps: SessionDeps,
  ) {
    this.upstream = new Upstream(server, deps.stackDir, deps.env, {
      message: (m) => void this.fromServer(m),
      lost: (why, restarting) => this.lost(why, restarting),
    });
    client.onmessage = (m) => void this.fromClient(m).catch((e: Error) => this.deps.say(`mcp ${server.name}: ${e.message}`));
    client.onclose = () => void this.close();
  }

  async start(): Promise<void> {
    await this.upstream.start();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.upstream.close();
    await this.client.close().catch(() => {});
  }

  private async fromClient(m: JSONRPCMessage): Promise<void> {
    if (isRequest(m)) {
      if (m.method === 'tools/call') return this.call(m);
      this.note(m.method, 'client');
      return this.forward(m);
    }
    if (isNotification(m) && m.method === 'notifications/cancelled') {
      const id = (m as { params?: { requestId?: Id } }).params?.requestId;
      if (id !== undefined && !this.inFlight.has(id)) return; // a call we answered ourselves
    }
    await this.upstream.send(m).catch(() => {});
  }

  /** A client request goes upstream; if the upstream cannot take it, the client hears why. */
  private async forward(m: JSONRPCMessage & { id: Id; method: string }): Promise<void> {
    this.inFlight.set(m.id, m.method);
    try {
      await this.upstream.send(m);
    } catch (e) {
      this.inFlight.delete(m.id);
      await this.error(m.id, (e as Error).message);
    }
  }

  private async call(m: JSONRPCMessage & { id: Id; method: string; params?: Record<string, unknown> }): Promise<void> {
    const name = m.params?.name;
    const args = m.params?.arguments;
    if (typeof name !== 'string' || (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args))))
      return this.error(m.id, 'tools/call needs a tool name and an arguments object', -32602);
    const tool = `${this.server.name}/${name}`;
    const result = await this.deps.decide(
      {
        agent_id: this.agent,
        tool_id: tool,
        args: (args ?? {}) as Record<string, unknown>,
        call_id: `mcp-${this.server.name}-${String(m.id)}`,
      },
      tool,
    );
    if (result.effect === 'PERMIT') return this.forward(m);
    await this.client.send({ jsonrpc: '2.0', id: m.id, result: deniedResult(result, tool) }, { relatedRequestId: m.id });
  }

  private async fromServer(m: JSONRPCMessage): Promise<void> {
    if (this.closed) return;
    if ('id' in m && !('method' in m)) {
      const id = (m as { id: Id }).id;
      const method = this.inFlight.get(id);
      this.inFlight.delete(id);
      if (method === 'tools/list' && 'result' in m && this.deps.filterTools()) m = this.filtered(m);
      return this.client.send(m, { relatedRequestId: id });
    }
    if (isRequest(m)) this.note(m.method, 'server');
    // Server-initiated messages ride the stream of a request in progress when there is one.
    const related = [...this.inFlight.keys()].at(-1);
    await this.client.send(m, related === undefined ? undefined : { relatedRequestId: related });
  }

  private filtered<M extends JSONRPCMessage>(m: M): M {
    const result = (m as { result?: { tools?: { name?: unknown }[] } }).result;
    if (!Array.isArray(result?.tools)) return m;
    const tools = result.tools.filter((t) => typeof t.name === 'string' && this.deps.visible(this.agent, `${this.server.name}/${t.name}`));
    return { ...m, result: { ...result, tools } };
  }

  private lost(why: string, restarting: boolean): void {
    this.deps.say(`mcp ${this.server.name}: ${why}${restarting ? '; restarting it' : ''}`);
    // Requests in flight will never be answered: say so, clearly, rather than let them hang.
    for (const id of [...this.inFlight.keys()])
      void this.error(id, `${why} while this request was in flight${restarting ? '; it is being restarted' : ''}`);
    this.inFlight.clear();
    if (!restarting) void this.close();
  }

  private note(method: string, from: 'client' | 'server'): void {
    if (QUIET.has(method)) return;
    this.deps.record({
      agent_id: this.agent,
      server: this.server.name,
      method,
      from,
      ...(KNOWN.has(method) ? {} : { code: 'RUNTIME_GAP' as const }),
    });
  }

  private error(id: Id, message: string, code = -32603): Promise<void> {
    return this.client.send({ jsonrpc: '2.0', id, error: { code, message } }, { relatedRequestId: id }).catch(() => {});
  }
}

/** A denied or deferred call, as a CallToolResult the model can read and a program can parse. */
export function deniedResult(r: GovernResult, tool: string) {
  const d = r.structured_denial;
  const code = d?.code ?? r.reason_code ?? (r.effect === 'DEFER' ? 'POLICY_DEFER' : 'POLICY_DENY');
  const message = d?.human_message ?? `${tool} ${r.effect === 'DEFER' ? 'deferred for approval' : 'denied'}`;
  const structured = {
    denied: true,
    effect: r.effect,
    tool,
    code,
    message,
    ...(d?.resolution ? { resolution: d.resolution } : {}),
    ...(r.rule_ref ? { rule_ref: r.rule_ref } : {}),
    ...(r.defer_token ? { approval_id: r.defer_token } : {}),
    ...(r.action_id ? { action_id: r.action_id } : {}),
  };
  const next =
    r.effect === 'DEFER' && r.defer_token ? ` Approval ${r.defer_token} is pending; the same call runs once it is approved.` : '';
  return { isError: true, content: [{ type: 'text', text: `${message} (${code}).${next}` }], structuredContent: structured };
}
