/**
 * faramesh mcp <server> [--dir] [--agent]: the MCP proxy for clients that can only launch a command
 * (an `mcpServers` entry with `command`). It speaks MCP on stdin/stdout and relays every message, as
 * it is, to the running daemon's proxy at /mcp/<server> — so the daemon decides each call, exactly
 * as over HTTP. The agent is `--agent` or FARAMESH_AGENT_ID: its own port when it has one, else the
 * shared port with FARAMESH_TOKEN (an agent token) as the bearer.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { JSONRPCMessageSchema, type JSONRPCMessage, type JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';

export interface BridgeOptions {
  dir: string;
  agent?: string;
}

export async function mcpBridge(server: string, o: BridgeOptions): Promise<number> {
  const fail = (why: string) => (process.stderr.write(`faramesh mcp: ${why}\n`), 1);
  // In an OS-tier sandbox the launcher names the agent's proxy (its own port, else the shared one).
  const given = process.env.FARAMESH_MCP_PROXY;
  if (given) return relay(new URL(`${given.replace(/\/+$/, '')}/mcp/${encodeURIComponent(server)}`), process.env.FARAMESH_TOKEN);
  const portsFile = join(resolve(o.dir), '.faramesh', 'runtime', 'mcp.json');
  if (!existsSync(portsFile))
    return fail(`no MCP proxy is running for ${resolve(o.dir)} (set runtime { mcp_proxy_port } and run faramesh apply)`);
  const ports = JSON.parse(readFileSync(portsFile, 'utf8')) as { shared?: number; agents?: Record<string, number> };
  const agent = o.agent ?? process.env.FARAMESH_AGENT_ID;
  const own = agent ? ports.agents?.[agent] : undefined;
  const token = process.env.FARAMESH_TOKEN;
  if (own === undefined && (ports.shared === undefined || !token))
    return fail(
      ports.shared !== undefined
        ? 'the shared MCP port needs an agent token: set FARAMESH_TOKEN (faramesh token issue --agent <id>)'
        : agent
          ? `agent ${agent} has no MCP proxy port of its own, and the stack has no shared one`
          : `name the agent: --agent <id> or FARAMESH_AGENT_ID (the stack has no shared MCP port; agents with their own: ${Object.keys(ports.agents ?? {}).join(', ') || 'none'})`,
    );
  return relay(new URL(`http://127.0.0.1:${own ?? ports.shared}/mcp/${encodeURIComponent(server)}`), own === undefined ? token : undefined);
}

/**
 * stdin/stdout ⇄ the proxy at `url` (with `token` as the bearer, on a shared port). A client on stdio
 * cannot initialize again, so when the proxy has lost its session (404: the daemon restarted, or the
 * session sat idle), the bridge opens a new one with the client's own `initialize` and goes on.
 */
async function relay(url: URL, token: string | undefined): Promise<number> {
  const options = token ? { requestInit: { headers: { authorization: `Bearer ${token}` } } } : {};
  // clientLines hands over whole lines only; the transport's own 10 MB cap would close it, without a
  // word, on a message the proxy takes (up to 16 MiB), leaving the bridge deaf to every later one.
  const local = new StdioServerTransport(
    process.stdin.pipe(clientLines((m) => process.stdout.write(`${JSON.stringify(m)}\n`))),
    undefined,
    { maxBufferSize: Number.POSITIVE_INFINITY },
  );
  let done: (code: number) => void = () => {};
  const finished = new Promise<number>((r) => (done = r));
  /** The client's initialize, replayed to open a new session; replies to replays are the bridge's. */
  let initialize: JSONRPCRequest | undefined;
  const replays = new Map<string, () => void>();
  let reopening: Promise<void> | undefined;
  let reopened = 0;
  const open = () => {
    const t = new StreamableHTTPClientTransport(url, options);
    t.onmessage = (m) => {
      const id = 'id' in m && !('method' in m) ? m.id : undefined;
      const replayed = typeof id === 'string' ? replays.get(id) : undefined;
      if (replayed) return void (replays.delete(id as string), replayed());
      void local.send(m).finally(() => id !== undefined && answered(id));
    };
    t.onclose = () => void (t === upstream && local.close().finally(() => done(0)));
    t.onerror = (e) => process.stderr.write(`faramesh mcp: ${e.message}\n`);
    return t;
  };
  let upstream = open();
  /** Sends still on their way, per transport: a replaced transport is closed once they have settled. */
  const sending = new Map<StreamableHTTPClientTransport, number>();
  const retire = (t: StreamableHTTPClientTransport) => {
    if (t !== upstream && !sending.get(t)) void t.close().catch(() => {});
  };
  const reopen = async () => {
    const old = upstream;
    upstream = open();
    // Not closed now: that would abort the client's other requests posted on the lost session, which
    // then fail ("This operation was aborted") instead of meeting their own 404 and being sent again.
    retire(old);
    await upstream.start();
    const id = `faramesh-bridge-reinit-${++reopened}`;
    const answered = new Promise<void>((r) => replays.set(id, r));
    await upstream.send({ ...initialize!, id });
    await answered;
    await upstream.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  };
  /** The client's initialize on its way: until the proxy answers it, there is no session to post in. */
  let handshake: Promise<void> | undefined;
  const send = async (m: JSONRPCMessage) => {
    const opening = 'method' in m && m.method === 'initialize' && 'id' in m;
    if (opening) initialize = m as JSONRPCRequest;
    // A client that writes its next messages without waiting for initialize's reply (MCP says it
    // should wait; over stdio a server reads in order anyway) would have them refused for no session.
    else if (handshake) await handshake;
    if (reopening) await reopening;
    const sent = upstream;
    sending.set(sent, (sending.get(sent) ?? 0) + 1);
    try {
      const posting = sent.send(m);
      if (opening) handshake = posting.catch(() => {});
      await posting;
    } catch (e) {
      const lost = e instanceof StreamableHTTPError && e.code === 404;
      if (!lost || !initialize || m === initialize) throw e;
      if (upstream === sent) reopening ??= reopen().finally(() => (reopening = undefined));
      await reopening;
      await upstream.send(m);
    } finally {
      sending.set(sent, sending.get(sent)! - 1);
      if (sending.get(sent) === 0) sending.delete(sent);
      retire(sent);
    }
  };
  /** The client's requests not answered yet: stdin ending does not take their replies away. */
  const inFlight = new Set<string | number>();
  let inputEnded = false;
  const answered = (id: string | number) => {
    inFlight.delete(id);
    if (inputEnded && inFlight.size === 0) void local.close();
  };
  local.onmessage = (m) => {
    if ('method' in m && 'id' in m) inFlight.add(m.id);
    void send(m).catch((e: Error) => reportError(m, e));
  };
  // The client is gone (it closed our stdin, as MCP clients end a stdio server): end the proxy's
  // session too, so the daemon closes its upstream now rather than after the idle timeout.
  let ending = false;
  local.onclose = () => {
    if (ending) return;
    ending = true;
    void upstream
      .terminateSession()
      .catch(() => {})
      .then(() => upstream.close())
      .finally(() => done(0));
  };
  // Its requests already sent are answered first: a client that writes them and closes its end gets every reply.
  process.stdin.once('end', () => {
    inputEnded = true;
    if (inFlight.size === 0) void local.close();
  });
  // A request the proxy could not take is answered here, so the client is never left waiting.
  const reportError = (m: object, e: Error) => {
    const id = (m as { id?: string | number }).id;
    if (id !== undefined)
      void local
        .send({ jsonrpc: '2.0', id, error: { code: -32603, message: `the Faramesh MCP proxy at ${url.href}: ${e.message}` } })
        .finally(() => answered(id));
  };
  await upstream.start();
  await local.start();
  return finished;
}

/**
 * The client's lines, as the stdio transport reads them (it drops, without a word, what it cannot
 * parse). A batch (an array: clients of the 2025-03-26 protocol may send one, and the proxy over HTTP
 * takes it) goes on as its messages, one a line, so each is relayed and answered. A line that is not
 * JSON, or a request that is not a JSON-RPC message, is answered here (-32700, -32600), so the client
 * is not left waiting for a reply that would never come.
 *
 * In linear time: each chunk is searched once for a line end and a line's chunks are joined once.
 * Appending chunks to one string and searching it all again on each chunk took the bridge over 5 s
 * on an 11 MiB message (stdin comes in 64 KiB chunks). A byte 0x0a is never part of a multibyte
 * UTF-8 character, so splitting bytes before decoding them is safe.
 */
export function clientLines(reply: (m: object) => void): Transform {
  /** The unfinished line's chunks. */
  let partial: Buffer[] = [];
  const refuse = (id: unknown, code: number, message: string) =>
    reply({ jsonrpc: '2.0', id: typeof id === 'string' || typeof id === 'number' ? id : null, error: { code, message } });
  const take = (line: string, push: (s: string) => void) => {
    if (line.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      return refuse(null, -32700, 'parse error: the line is not JSON');
    }
    const messages: unknown[] = Array.isArray(parsed) ? parsed : [parsed];
    if (messages.length === 0) return refuse(null, -32600, 'invalid request: an empty batch');
    for (const m of messages) {
      if (JSONRPCMessageSchema.safeParse(m).success) push(`${JSON.stringify(m)}\n`);
      // A reply of the client's that is malformed has no one to answer; a request or anything else does.
      else if (typeof m !== 'object' || m === null || 'method' in m || !('id' in m))
        refuse((m as { id?: unknown } | null)?.id, -32600, 'invalid request: not a JSON-RPC 2.0 message');
    }
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      let from = 0;
      for (let end = chunk.indexOf(10); end !== -1; end = chunk.indexOf(10, from)) {
        const tail = chunk.subarray(from, end);
        const line = partial.length === 0 ? tail : Buffer.concat([...partial, tail]);
        partial = [];
        take(line.toString('utf8').replace(/\r$/, ''), (s) => this.push(s));
        from = end + 1;
      }
      if (from < chunk.length) partial.push(chunk.subarray(from));
      done();
    },
    flush(done) {
      take(Buffer.concat(partial).toString('utf8'), (s) => this.push(s));
      partial = [];
      done();
    },
  });
}
