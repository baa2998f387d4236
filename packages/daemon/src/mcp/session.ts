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
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { JSONRPCRequestSchema, SUPPORTED_PROTOCOL_VERSIONS, type JSONRPCMessage, type RequestId } from '@modelcontextprotocol/sdk/types.js';
import { isJsonContentType } from '@modelcontextprotocol/sdk/shared/mediaType.js';
import { foldKey, unfaithfulJson } from '@faramesh/protocol';
import type { GovernParams, GovernResult } from '../wire/agent-protocol.js';
import { TERMINAL, type TaskBook, type TaskEnd } from './tasks.js';
import { Upstream, type McpServerSpec } from './upstream.js';
import { relayCall } from './passthrough.js';
import { cleartextTo, type Carrier } from '../credentials/carrier.js';
import { mcpSessionId } from './session-id.js';

export interface SessionDeps {
  /** `carrier`: how this upstream would carry a per-call credential, when that may rule it out. */
  decide(params: GovernParams, tool: string, carrier?: Carrier): Promise<GovernResult> | GovernResult;
  /** Could this agent ever be permitted (or deferred) this tool? */
  visible(agent: string, tool: string): boolean;
  filterTools(): boolean;
  /** `runtime { mcp_deny_as_error = true }`: denials as JSON-RPC errors (code -32003, the denial as data). */
  denyAsError(): boolean;
  /** Count a tools/call relayed on the hot path (passthrough.ts). */
  relayed?(): void;
  /** Note a passed-through request (never delays it). */
  record(entry: { agent_id: string; server: string; method: string; from: 'client' | 'server'; code?: 'RUNTIME_GAP' }): void;
  tasks: TaskBook;
  stackDir: string;
  env: NodeJS.ProcessEnv;
  /** The daemon's variables a stdio server never inherits, under the policy in force. */
  withheld?(): (name: string) => boolean;
  /** The session is over: its `session_id` makes no more calls (the daemon forgets its budget and facts). */
  ended?(sessionId: string): void;
  say(line: string): void;
}

/** The JSON-RPC error code of a denied call, for stacks that ask for errors. */
export const DENIED = -32003;

/** The MCP extension by which a client marks its work complete, and an upstream reports a task done. */
export const COMPLETE = 'faramesh/tasks/complete';

/** Where a denial of a tool with an `outputSchema` carries its structured form (`_meta`), not in structuredContent. */
export const DENIAL_META = 'faramesh/denial';

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
  COMPLETE,
]);
/** Pages of tools/list the proxy reads itself (see learnSchemas), and how long it waits for them all. */
const MAX_OWN_PAGES = 100;
const OWN_LISTING_MS = 5_000;

/** Not recorded: the handshake and liveness, and lists (a listing is not an action). */
const QUIET = new Set(['initialize', 'ping', 'tools/list', 'resources/list', 'resources/templates/list', 'prompts/list', 'roots/list']);

type Id = RequestId;
const isRequest = (m: JSONRPCMessage): m is JSONRPCMessage & { id: Id; method: string; params?: Record<string, unknown> } =>
  'method' in m && 'id' in m;
const isNotification = (m: JSONRPCMessage): m is JSONRPCMessage & { method: string } => 'method' in m && !('id' in m);

export class ProxySession {
  readonly upstream: Upstream;
  /** Client requests forwarded and not yet answered: their method (and task), to route and read the reply. */
  private readonly inFlight = new Map<
    Id,
    { method: string; taskId?: string; call?: { tool: string; actionId?: string; ttl?: unknown }; relayed?: true; firstPage?: boolean }
  >();
  /**
   * Calls whose decision is awaited: their ids are taken (a batch repeating one is refused), but
   * nothing has gone upstream, so an upstream restart meanwhile does not fail them — they go on after.
   */
  private readonly deciding = new Set<Id>();
  /**
   * Calls of `deciding` the client cancelled meanwhile: whatever their decision, they never go
   * upstream (the client has withdrawn them, and would ignore their answer).
   */
  private readonly withdrawn = new Set<Id>();
  /** Run whenever a call leaves `deciding`: a completion waits through these for the calls sent before it. */
  private readonly onDecided = new Set<() => void>();
  /**
   * Request ids of POSTs the client's transport has yet to read (see `claim`): taken on arrival,
   * since the transport routes an id's answer to the last POST that carried it.
   */
  private readonly arriving = new Set<Id>();
  /** Calls relayed as HTTP (passthrough.ts), by id: how to end one the client cancelled. */
  private readonly relays = new Map<Id, () => void>();
  /** Tools the upstream marks read-only (`annotations.readOnlyHint`): their tasks write nothing. */
  private readonly readOnly = new Set<string>();
  /**
   * Tools the upstream lists with an `outputSchema`: MCP clients check a result's structuredContent
   * against it (the official SDK even for an isError result), so their denials carry it in `_meta`.
   */
  private readonly withOutputSchema = new Set<string>();
  /**
   * Whether `withOutputSchema` is complete: a tools/list reached its last page in this session. Until
   * then a denial cannot know its tool's schema, and the client may (its SDK keeps the schemas it
   * listed in an earlier session, and the stdio bridge opens a new session without telling it).
   */
  private listed = false;
  /** Every tool name a listing in this session gave: a call to one of them needs no other check. */
  private readonly toolNames = new Set<string>();
  /**
   * The listing caseTwin had the proxy make since the last list_changed: a server that cannot list is
   * asked once, and every call that arrives while it is under way waits for it too.
   */
  private listingForNames: Promise<void> | undefined;
  /** The upstream lists tools, and its client was told so (its initialize answer went by). */
  private offersTools = false;
  /** The proxy's own tools/list requests to the upstream, by id: their replies are the proxy's, not the client's. */
  private readonly ownRequests = new Map<string, (reply: JSONRPCMessage | Error) => void>();
  private learning?: Promise<void>;
  private readonly key = randomUUID();
  /** The `session_id` its calls are decided under: the daemon's own, never used again once the session ends. */
  private get sessionId(): string {
    return mcpSessionId(this.key);
  }
  private closed = false;
  private settled?: () => void;
  /** A stdio server has no request to put a credential on; plain HTTP off this machine would show it. */
  private readonly carrier: Carrier | undefined;

  constructor(
    readonly agent: string,
    readonly server: McpServerSpec,
    private readonly client: Transport,
    private readonly deps: SessionDeps,
  ) {
    // A message that cannot be delivered (the client went away mid-call) is logged, never thrown.
    const logged = (e: Error) => this.deps.say(`mcp ${server.name}: ${e.message}`);
    const url = server.url === undefined ? undefined : new URL(server.url);
    this.carrier = url
      ? cleartextTo(url.protocol, url.hostname)
      : {
          none: `the MCP server '${server.name}' runs over stdio: a per-call credential has no request to ride in (give the server its own in mcp_server env, or serve it over HTTP)`,
        };
    this.upstream = new Upstream(
      server,
      deps.stackDir,
      deps.env,
      {
        message: (m) => void this.fromServer(m).catch(logged),
        lost: (why, restarting) => this.lost(why, restarting),
        unanswered: (id, why) => {
          if (!this.inFlight.has(id)) return;
          this.answered(id);
          void this.error(id, why);
        },
      },
      deps.withheld?.(),
    );
    client.onmessage = (m) => void this.fromClient(m).catch(logged);
    client.onclose = () => void this.close().catch(logged);
  }

  async start(): Promise<void> {
    await this.upstream.start();
  }

  /**
   * The policy changed: which tools this agent may see may have too. The client hears
   * `notifications/tools/list_changed`, as from a server whose tools changed, and lists them again
   * (filtered under the new policy) rather than keep offering the model a listing of the old one.
   */
  policyChanged(): void {
    if (this.closed || !this.offersTools) return;
    this.client.send({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' }).catch(() => {});
  }

  /** An initialize answer that lists tools says they may change: the proxy itself tells of changes (policyChanged). */
  private announcingListChanges<M extends JSONRPCMessage>(m: M): M {
    const result = (m as { result?: { capabilities?: { tools?: unknown } } }).result;
    if (!result) return m;
    const tools = result.capabilities?.tools;
    if (typeof tools !== 'object' || tools === null || Array.isArray(tools)) return m;
    this.offersTools = true;
    return { ...m, result: { ...result, capabilities: { ...result.capabilities, tools: { ...tools, listChanged: true } } } };
  }

  /**
   * A call waits for its decision or its answer. A legacy SSE client's POST is answered (202) at once and
   * its reply rides the event stream, so its open requests do not say whether it has a call in flight.
   */
  get busy(): boolean {
    return this.inFlight.size > 0 || this.deciding.size > 0;
  }

  /** Resolves once no call waits for its decision or its answer (the daemon drains through this). */
  idle(): Promise<void> {
    if ((this.inFlight.size === 0 && this.deciding.size === 0) || this.closed) return Promise.resolve();
    return new Promise((resolve) => (this.settled = resolve));
  }

  private answered(id: Id): void {
    this.inFlight.delete(id);
    this.deps.tasks.callAnswered(this.key, id);
    this.settleIfIdle();
  }

  /** A permitted call goes upstream: one to a tool that may write holds the completion gate until answered. */
  private sending(id: Id, tool: string): void {
    if (!this.readOnly.has(tool)) this.deps.tasks.callSent(this.key, id, this.agent, `${this.server.name}/${tool}`);
  }

  /** A decided call leaves `deciding` only once it is in flight (or answered): a drain never sees a gap between. */
  private decidedOn(id: Id): void {
    this.deciding.delete(id);
    this.withdrawn.delete(id);
    for (const wake of [...this.onDecided]) wake();
    this.settleIfIdle();
  }

  /** Resolves once none of `ids` is being decided: each is then in flight (in the task book) or answered. */
  private decisionsOf(ids: Id[]): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        if (ids.some((id) => this.deciding.has(id))) return;
        this.onDecided.delete(wake);
        resolve();
      };
      this.onDecided.add(wake);
      wake();
    });
  }

  private settleIfIdle(): void {
    if (this.inFlight.size === 0 && this.deciding.size === 0) this.settled?.();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.settled?.();
    this.closed = true;
    // Requests still in flight will never be answered now: say so while the client's streams are open,
    // rather than leave it waiting (a drain past its grace, a session closed from the daemon's side).
    for (const [id, f] of this.inFlight)
      if (!f.relayed)
        void this.error(id, `the MCP session with '${this.server.name}' ended while this request was in flight; it may have run`);
    this.deps.tasks.sessionClosed(this.key, this.upstream.remote);
    this.deps.ended?.(this.sessionId);
    await this.upstream.close();
    await this.client.close().catch(() => {});
  }

  /**
   * Before the Streamable HTTP transport reads a POST: a request whose id is live (in flight, being
   * decided, or in a POST still being read) is refused here, on this POST alone. The transport would
   * route that id's answer to this POST: the live request's response (a permitted call that ran) would
   * be lost, and its client left waiting. True: the POST is answered.
   */
  claim(body: unknown, res: ServerResponse): boolean {
    const ids: Id[] = [];
    for (const m of Array.isArray(body) ? body : [body]) {
      if (typeof m !== 'object' || m === null || !('method' in m) || !('id' in m)) continue;
      const id = (m as { id: unknown }).id;
      if (typeof id === 'string' || typeof id === 'number') ids.push(id);
    }
    const live = ids.find((id) => this.inFlight.has(id) || this.deciding.has(id) || this.arriving.has(id));
    if (live === undefined) {
      for (const id of ids) this.arriving.add(id);
      res.once('close', () => ids.forEach((id) => this.arriving.delete(id)));
      return false;
    }
    const message = `request id ${JSON.stringify(live)} is already in flight`;
    const errors = ids.map((id) => ({ jsonrpc: '2.0', id, error: { code: -32600, message } }));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(Array.isArray(body) ? errors : errors[0]));
    return true;
  }

  private async fromClient(m: JSONRPCMessage): Promise<void> {
    if (isRequest(m)) {
      this.arriving.delete(m.id);
      if (m.method === 'tools/call') return this.call(m);
      if (m.method === COMPLETE) return this.complete(m.id);
      // Replies are matched to their request by id: a second request under a live id would take the
      // first one's place, so a tools/list reply would go unfiltered and a task go untracked.
      if (this.inFlight.has(m.id) || this.deciding.has(m.id))
        return this.error(m.id, `request id ${JSON.stringify(m.id)} is already in flight`, -32600);
      this.note(m.method, 'client');
      const taskId = m.params?.taskId;
      if (m.method === 'tools/list') return this.forward(m, { firstPage: m.params?.cursor === undefined });
      return this.forward(m, typeof taskId === 'string' ? { taskId } : {});
    }
    if (isNotification(m)) {
      // A request sent without an id (a `tools/call` among them) would reach the upstream with no
      // decision: only notifications pass, and anything else is dropped and recorded as a gap.
      if (!m.method.startsWith('notifications/'))
        return this.deps.record({ agent_id: this.agent, server: this.server.name, method: m.method, from: 'client', code: 'RUNTIME_GAP' });
      if (m.method === 'notifications/cancelled') {
        const id = (m as { params?: { requestId?: Id } }).params?.requestId;
        if (id === undefined) return this.upstream.send(m).catch(() => {});
        const asked = this.inFlight.get(id);
        // Still being decided: the upstream has not seen it, and never will (see withdrawn).
        if (!asked) return void (this.deciding.has(id) && this.withdrawn.add(id));
        await this.upstream.send(m).catch(() => {});
        // A receiver of a cancellation sends no reply (MCP): the request will never be answered. It is
        // forgotten now (else it held the completion gate, and the session's drain, for the session's
        // life), and the stream the client's transport keeps for it is ended with an error the client
        // ignores, as it ignores any reply to what it cancelled.
        if (asked.relayed) return this.relays.get(id)?.();
        this.answered(id);
        this.upstream.forget(id);
        return this.error(id, 'request cancelled by the client', -32800);
      }
    }
    await this.upstream.send(m).catch(() => {});
  }

  /** A client request goes upstream; if the upstream cannot take it, the client hears why. */
  private async forward(
    m: JSONRPCMessage & { id: Id; method: string },
    extra: { taskId?: string; call?: { tool: string; actionId?: string; ttl?: unknown }; firstPage?: boolean } = {},
    credential?: GovernResult['credential'],
  ): Promise<void> {
    this.inFlight.set(m.id, { method: m.method, ...extra });
    try {
      await this.upstream.send(m, credential ? { [credential.header.toLowerCase()]: credential.value } : undefined);
    } catch (e) {
      this.answered(m.id);
      // What the client hears never quotes the credential, whatever failed with it.
      const message = credential ? (e as Error).message.split(credential.value).join('[credential]') : (e as Error).message;
      await this.error(m.id, message);
    }
  }

  private async call(m: JSONRPCMessage & { id: Id; method: string; params?: Record<string, unknown> }): Promise<void> {
    // Ids tell answers (and a call's credential) apart: a second request under a live id is refused.
    // The id is taken before the decision is awaited, so a batch repeating it cannot slip in meanwhile.
    if (this.inFlight.has(m.id) || this.deciding.has(m.id))
      return this.error(m.id, `request id ${JSON.stringify(m.id)} is already in flight`, -32600);
    this.deciding.add(m.id);
    const decided = await this.decideCall(m).catch((e: unknown) => {
      this.decidedOn(m.id);
      throw e;
    });
    if (this.withdrawn.has(m.id)) {
      this.decidedOn(m.id);
      return this.error(m.id, 'request cancelled by the client', -32800);
    }
    const task = m.params?.task as { ttl?: unknown } | undefined;
    if (typeof decided !== 'string' && decided.result.effect === 'PERMIT') {
      const { result, name } = decided;
      this.sending(m.id, name);
      // forward() marks the call in flight before its first await, so the drain keeps waiting.
      const sent = this.forward(
        m,
        task ? { call: { tool: name, ...(result.action_id ? { actionId: result.action_id } : {}), ttl: task.ttl } } : {},
        result.credential,
      );
      this.decidedOn(m.id);
      return sent;
    }
    this.decidedOn(m.id);
    if (typeof decided === 'string') return this.error(m.id, decided, -32602);
    // A task-augmented call is denied as a JSON-RPC error (no CallToolResult): no schema to learn for it.
    const asTask = m.params?.task !== undefined;
    if (!asTask) await this.learnSchemas();
    await this.client.send(this.denial(m.id, decided, asTask), { relatedRequestId: m.id });
  }

  /**
   * The hot path: a `tools/call` posted over Streamable HTTP, for a Streamable HTTP upstream, is decided
   * here and a permitted one relayed as HTTP (see passthrough.ts). False: the transport takes it (other
   * methods, task-augmented calls, malformed calls, other upstreams).
   */
  async relay(m: unknown, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (typeof m !== 'object' || m === null || Array.isArray(m) || this.closed) return false;
    const call = m as JSONRPCMessage;
    if (!isRequest(call) || call.method !== 'tools/call' || call.params?.task !== undefined) return false;
    // Only a well-formed JSON-RPC request is decided here: anything else goes to the transport, which
    // refuses it before any decision (a decision recorded for a call that never runs is a false record).
    // The transport's own schema decides what is well formed: an id past 2^53 (JSON.parse rounds it) or
    // a `_meta` that is not an object with a valid progressToken reads as a call here, but the transport
    // (and an SDK upstream) refuse it.
    const { jsonrpc, id, params } = call as { jsonrpc?: unknown; id?: unknown; params?: unknown };
    if (typeof params !== 'object' || params === null || Array.isArray(params) || !JSONRPCRequestSchema.safeParse(m).success) return false;
    // What the transport would refuse before reading the message (an Accept without both types, a body
    // not labelled JSON, a protocol version no one speaks) goes to it too: decided here, it would be a
    // permit recorded, and an approval spent, for a call the upstream refuses just the same.
    if (!transportTakes(req)) return false;
    const target = this.upstream.httpTarget();
    if (!target || this.inFlight.has(call.id) || this.deciding.has(call.id)) return false;
    this.deciding.add(call.id);
    const decided = await this.decideCall(call).catch((e: unknown) => {
      this.decidedOn(call.id);
      throw e;
    });
    if (this.withdrawn.has(call.id)) {
      this.decidedOn(call.id);
      // The client ignores this answer: it only ends the POST's response.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: call.id, error: { code: -32800, message: 'request cancelled by the client' } }));
      return true;
    }
    if (typeof decided === 'string' || decided.result.effect !== 'PERMIT') this.decidedOn(call.id);
    if (typeof decided === 'string') return false;
    if (decided.result.effect !== 'PERMIT') {
      await this.learnSchemas();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(this.denial(call.id, decided)));
      return true;
    }
    // Relayed as HTTP: the client's transport has no stream for this id, so nothing else may ride it.
    this.inFlight.set(call.id, { method: call.method, relayed: true });
    this.sending(call.id, decided.name);
    this.decidedOn(call.id);
    this.deps.relayed?.();
    try {
      const c = decided.result.credential;
      // Only the members decided on go upstream: another (`Params`, `paramſ`) is what a lenient decoder
      // (Go's encoding/json folds case) could read instead of the params the policy judged.
      const sent = { jsonrpc, id, method: call.method, params };
      await relayCall(
        target,
        JSON.stringify(sent),
        req,
        res,
        call.id,
        c ? { [c.header.toLowerCase()]: c.value } : {},
        (method) => this.note(method, 'server'),
        (cancel) => this.relays.set(call.id, cancel),
      );
    } finally {
      this.relays.delete(call.id);
      this.answered(call.id);
    }
    return true;
  }

  /** The decision for a tools/call, or why the call is invalid (no tool name, arguments not an object or hiding a `__proto__` key). */
  private async decideCall(
    m: JSONRPCMessage & { id: Id; params?: Record<string, unknown> },
  ): Promise<{ name: string; tool: string; result: GovernResult } | string> {
    const smuggled = foldedParamKey(m.params);
    if (smuggled) return smuggled;
    const name = m.params?.name;
    const args = m.params?.arguments;
    if (typeof name !== 'string' || (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args))))
      return 'tools/call needs a tool name and an arguments object';
    const unfaithful = unfaithfulJson(args, 'arguments', { foldedKeys: true });
    if (unfaithful) return unfaithful;
    // The rest of params (`_meta`, `task`) goes upstream too: nesting no reader can follow, or a number
    // JSON reads as Infinity, is refused before anything is decided, not after a permit is recorded.
    // Each member on its own, so `arguments` (checked above) has the same depth allowed as on the socket.
    for (const [key, value] of Object.entries(m.params ?? {})) {
      const unsendable = key === 'arguments' ? undefined : unfaithfulJson(value, `params.${key}`);
      if (unsendable) return unsendable;
    }
    const twin = await this.caseTwin(name);
    if (twin)
      return `the server lists no tool '${name}', but lists '${twin}', which differs only in letter case or Unicode form: refused, as a server that ignores either would run '${twin}', which the policy did not judge`;
    const tool = `${this.server.name}/${name}`;
    const result = await this.deps.decide(
      {
        agent_id: this.agent,
        tool_id: tool,
        args: (args ?? {}) as Record<string, unknown>,
        call_id: `mcp-${this.server.name}-${String(m.id)}`,
        // The client's session is its run: `faramesh explain run mcp-<key>` shows its calls. It is
        // also the session that `session { }` bounds and session budgets count by: without it, every
        // MCP session of the agent would share one session that never ends.
        request_id: `mcp-${this.key}`,
        session_id: this.sessionId,
      },
      tool,
      this.carrier,
    );
    return { name, tool, result };
  }

  /**
   * A listed tool that `name` is not, but would be to a server that folds letter case or Unicode form
   * when it looks a tool up. Tool ids are case-sensitive in policy (`deny shell/exec` does not judge
   * `Shell/Exec`), so such a call is refused rather than decided under another tool's rules. A session
   * that calls before listing has the proxy list the tools first.
   */
  private async caseTwin(name: string): Promise<string | undefined> {
    if (this.toolNames.has(name)) return undefined;
    if (!this.listed) {
      await (this.listingForNames ??= this.learnSchemas(true));
      if (this.toolNames.has(name)) return undefined;
    }
    const folded = foldKey(name);
    for (const listed of this.toolNames) if (foldKey(listed) === folded) return listed;
    return undefined;
  }

  /**
   * A denied or deferred call's answer: a CallToolResult, or a JSON-RPC error when the stack asks. A
   * task-augmented call (`task`) is answered with the error too: its client reads the reply as a
   * CreateTaskResult, and a CallToolResult in its place fails that schema, so the client would see a
   * validation error instead of the denial's text and approval id.
   */
  private denial(id: Id, { result, tool, name }: { result: GovernResult; tool: string; name: string }, task = false): JSONRPCMessage {
    const denied = deniedResult(result, tool);
    if (task || this.deps.denyAsError())
      return { jsonrpc: '2.0', id, error: { code: DENIED, message: denied.content[0]!.text, data: denied.structuredContent } };
    // A tool whose schema is unknown (its listing could not be read) is treated as having one: `_meta` is valid either way.
    if (this.listed && !this.withOutputSchema.has(name)) return { jsonrpc: '2.0', id, result: denied };
    const { structuredContent, ...rest } = denied;
    return { jsonrpc: '2.0', id, result: { ...rest, _meta: { [DENIAL_META]: structuredContent } } };
  }

  private async fromServer(m: JSONRPCMessage): Promise<void> {
    if (this.closed) return;
    if ('id' in m && !('method' in m)) {
      const id = (m as { id: Id }).id;
      const own = typeof id === 'string' ? this.ownRequests.get(id) : undefined;
      if (own) return own(m);
      const asked = this.inFlight.get(id);
      this.answered(id);
      if ('result' in m && asked) {
        if (asked.method === 'initialize') m = this.announcingListChanges(m);
        this.watchTasks(asked, m.result as Record<string, unknown>);
        if (asked.method === 'tools/list') {
          this.learnTools(m.result);
          // A whole listing in one page: every tool of the upstream has been seen.
          if (asked.firstPage && typeof (m.result as { nextCursor?: unknown }).nextCursor !== 'string') this.listed = true;
          if (this.deps.filterTools()) m = this.filtered(m);
        }
      }
      return this.client.send(m, { relatedRequestId: id });
    }
    const method = (m as { method: string }).method;
    const params = (m as { params?: Record<string, unknown> }).params;
    // The tools changed: their schemas are read again before the next denial, unless the client lists them first.
    if (method === 'notifications/tools/list_changed') {
      this.listed = false;
      this.listingForNames = undefined;
      // A name no longer listed is no longer a call's to make unchecked (`Exec` gone, `exec` listed).
      this.toolNames.clear();
    }
    if (method === 'notifications/tasks/status') this.taskEnd(params?.taskId, params?.status);
    if (method === COMPLETE) {
      // The upstream reports its task done: the proxy's to hear, not the client's.
      this.taskEnd(params?.taskId, params?.status ?? 'completed');
      if (isRequest(m)) await this.upstream.send({ jsonrpc: '2.0', id: m.id, result: {} }).catch(() => {});
      return;
    }
    if (isRequest(m)) this.note(method, 'server');
    // Server-initiated messages ride the stream of a request in progress when there is one: one the
    // client's transport carries, never a call relayed as HTTP (the transport would drop the message).
    const related = [...this.inFlight].filter(([, f]) => !f.relayed).at(-1)?.[0];
    await this.client.send(m, related === undefined ? undefined : { relatedRequestId: related });
  }

  /** What a reply says about tasks: one started by a permitted call, or one that reached its end. */
  private watchTasks(
    asked: { method: string; taskId?: string; call?: { tool: string; actionId?: string; ttl?: unknown } },
    result: Record<string, unknown>,
  ): void {
    const task = result.task as { taskId?: unknown; ttl?: unknown } | undefined;
    if (asked.call && typeof task?.taskId === 'string') {
      // The server's TTL, or none (`null` is unlimited): never the client's, which the agent chooses (a
      // tiny one would mark a running write expired at once, and free the completion gate with it).
      const ttl = typeof task.ttl === 'number' ? task.ttl : null;
      this.deps.tasks.started(this.key, {
        agent: this.agent,
        server: this.server.name,
        taskId: task.taskId,
        tool: `${this.server.name}/${asked.call.tool}`,
        writes: !this.readOnly.has(asked.call.tool),
        ...(asked.call.actionId ? { actionId: asked.call.actionId } : {}),
        ttlMs: ttl,
      });
    }
    if (asked.method === 'tasks/get' || asked.method === 'tasks/cancel') this.taskEnd(result.taskId ?? asked.taskId, result.status);
    if (asked.method === 'tasks/result')
      this.taskEnd(asked.taskId, (result as { isError?: unknown }).isError === true ? 'failed' : 'completed');
  }

  private taskEnd(taskId: unknown, status: unknown): void {
    if (typeof taskId === 'string' && typeof status === 'string' && TERMINAL.has(status))
      this.deps.tasks.ended(this.key, taskId, status as TaskEnd);
  }

  /**
   * Before a denial: the upstream's tool schemas, read by the proxy itself when this session has not
   * listed them all, so the denial of a tool with an outputSchema keeps the structured form out of
   * `structuredContent`. Never throws: a listing that fails leaves `listed` false (denials then use `_meta`).
   */
  private learnSchemas(needed = false): Promise<void> {
    if (this.listed || this.closed || (!needed && this.deps.denyAsError())) return Promise.resolve();
    this.learning ??= (async () => {
      // One bound for the whole listing: a slow or endless upstream delays a denial by 5 s at most.
      const until = Date.now() + OWN_LISTING_MS;
      let cursor: unknown;
      for (let page = 0; page < MAX_OWN_PAGES; page++) {
        const reply = await this.ask('tools/list', typeof cursor === 'string' ? { cursor } : {}, until - Date.now());
        if (!('result' in reply)) return;
        this.learnTools(reply.result);
        cursor = (reply.result as { nextCursor?: unknown }).nextCursor;
        if (typeof cursor !== 'string') return void (this.listed = true);
      }
    })()
      .catch(() => {})
      .finally(() => (this.learning = undefined));
    return this.learning;
  }

  /** A request of the proxy's own to the upstream, answered within `ms` (else it rejects). */
  private ask(method: string, params: Record<string, unknown>, ms: number): Promise<JSONRPCMessage> {
    const id = `faramesh-${randomUUID()}`;
    return new Promise<JSONRPCMessage>((resolve, reject) => {
      const timer = setTimeout(() => settle(new Error(`no reply to ${method}`)), Math.max(0, ms));
      const settle = (reply: JSONRPCMessage | Error) => {
        clearTimeout(timer);
        this.ownRequests.delete(id);
        if (reply instanceof Error) reject(reply);
        else resolve(reply);
      };
      this.ownRequests.set(id, settle);
      this.upstream.send({ jsonrpc: '2.0', id, method, params }).catch((e: Error) => settle(e));
    });
  }

  private learnTools(result: unknown): void {
    for (const t of (result as { tools?: { name?: unknown; outputSchema?: unknown; annotations?: { readOnlyHint?: unknown } }[] }).tools ??
      []) {
      if (typeof t.name !== 'string') continue;
      this.toolNames.add(t.name);
      // The latest listing decides: a tool listed again without the mark writes (its tasks hold the gate).
      if (t.annotations?.readOnlyHint === true) this.readOnly.add(t.name);
      else this.readOnly.delete(t.name);
      if (t.outputSchema !== undefined) this.withOutputSchema.add(t.name);
      else this.withOutputSchema.delete(t.name);
    }
  }

  /** The client marks its work complete: the agent's completion gate decides, against live state. */
  private async complete(id: Id): Promise<void> {
    if (this.inFlight.has(id) || this.deciding.has(id))
      return this.error(id, `request id ${JSON.stringify(id)} is already in flight`, -32600);
    // Being decided, as a call is: a drain waits for its answer rather than cut it off.
    // The calls sent before it are part of the work it claims done. One still being decided is not in
    // the task book yet, so the gate would miss a write about to run: their decisions come first.
    const before = [...this.deciding];
    this.deciding.add(id);
    try {
      await this.decisionsOf(before);
      const r = await this.deps.decide(
        // In its session: a session budget it used up is this session's.
        { agent_id: this.agent, action_type: 'completion_event', call_id: `mcp-complete-${randomUUID()}`, session_id: this.sessionId },
        'completion',
      );
      await this.client.send(
        {
          jsonrpc: '2.0',
          id,
          result: {
            completed: r.effect === 'PERMIT',
            ...(r.action_id ? { action_id: r.action_id } : {}),
            ...(r.structured_denial ? { structured_denial: r.structured_denial } : {}),
          },
        },
        { relatedRequestId: id },
      );
    } finally {
      this.decidedOn(id);
    }
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
    for (const id of [...this.inFlight.keys()]) {
      this.deps.tasks.callAnswered(this.key, id);
      void this.error(id, `${why} while this request was in flight${restarting ? '; it is being restarted' : ''}`);
    }
    this.inFlight.clear();
    // A restarted stdio server is a new process: the tasks the old one ran died with it, and none will
    // ever report an end. They are abandoned now (docs/mcp.md), not left holding the completion gate.
    if (restarting) this.deps.tasks.sessionClosed(this.key);
    for (const settle of [...this.ownRequests.values()]) settle(new Error(why));
    if (!restarting) void this.close().catch(() => {});
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

/**
 * Why a tools/call's params cannot be decided on faithfully: two keys that differ only in letter
 * case or Unicode form (`name` and `Name`), or a key that reads as a field the proxy decides on
 * without being it (`ARGUMENTS`). A lenient decoder upstream (Go's encoding/json) binds either to
 * the field, and the last one wins: the upstream would run another tool, or other arguments, than
 * the ones decided.
 */
const DECIDED_FIELDS = new Map(['name', 'arguments', 'task', '_meta'].map((f) => [foldKey(f), f]));
export function foldedParamKey(params: unknown): string | undefined {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) return undefined;
  const seen = new Map<string, string>();
  for (const k of Object.keys(params)) {
    const folded = foldKey(k);
    const other = seen.get(folded);
    if (other !== undefined)
      return `params has keys '${other}' and '${k}', which differ only in letter case or Unicode form: refused, because the upstream could read either`;
    const field = DECIDED_FIELDS.get(folded);
    if (field !== undefined && field !== k)
      return `params has the key '${k}', which an upstream could read as '${field}': refused, because the call decided would not be the call run`;
    seen.set(folded, k);
  }
  return undefined;
}

/** Would the Streamable HTTP transport take this POST (its checks before it reads the message)? */
function transportTakes(req: IncomingMessage): boolean {
  const accept = req.headers.accept ?? '';
  if (!accept.includes('application/json') || !accept.includes('text/event-stream')) return false;
  if (!isJsonContentType(req.headers['content-type'])) return false;
  const version = req.headers['mcp-protocol-version'];
  return version === undefined || (typeof version === 'string' && SUPPORTED_PROTOCOL_VERSIONS.includes(version));
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
    // `human_message` as errors.md names it in every payload; `message` as the proxy first called it.
    human_message: message,
    message,
    resolution:
      d?.resolution ??
      (r.effect === 'DEFER' && r.defer_token
        ? { type: 'pending_approval', approval_id: r.defer_token }
        : { type: 'rule_block', ...(r.rule_ref ? { rule_id: r.rule_ref } : {}) }),
    ...(r.rule_ref ? { rule_ref: r.rule_ref } : {}),
    ...(r.defer_token ? { approval_id: r.defer_token } : {}),
    ...(r.action_id ? { action_id: r.action_id } : {}),
  };
  const next =
    r.effect === 'DEFER' && r.defer_token ? ` Approval ${r.defer_token} is pending; the same call runs once it is approved.` : '';
  return { isError: true, content: [{ type: 'text', text: `${message} (${code}).${next}` }], structuredContent: structured };
}
