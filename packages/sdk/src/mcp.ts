/**
 * governMcpServer: an `@modelcontextprotocol/sdk` server (`McpServer` or the low-level `Server`) whose
 * every `tools/call` is decided before its handler runs — tools registered before or after the call
 * alike. A denial answers as a valid CallToolResult the client's model can read: `isError: true`, a
 * text block, and the structured denial as `structuredContent` (in `_meta["faramesh/denial"]` for a
 * tool with an `outputSchema`, which clients check `structuredContent` against even in an error).
 *
 * It hooks the protocol's handler table rather than each tool, so nothing registered later slips by.
 * Without the SDK as a dependency, the server is checked by shape and refused when it does not fit.
 */
import { ToolDeniedError } from './errors.js';
import { Governor, type GovernOptions } from './govern.js';
import { argsObject, asParsed, GOVERNED, isGoverned } from './wrap.js';

type Handler = (request: CallRequest, extra?: { sessionId?: string }) => Promise<unknown>;
interface CallRequest {
  method: string;
  params?: { name?: unknown; arguments?: unknown };
}

export interface McpGovernOptions extends GovernOptions {
  /** Prefix for tool ids, e.g. `"files/"` to decide `files/read` for the tool `read` (default none). */
  toolPrefix?: string;
}

/** Where a denial's structure goes in the result of a tool with an output schema. */
export const DENIAL_META = 'faramesh/denial';

/**
 * What a denied `tools/call` answers. `outputSchema`: the tool declares one, or may (not known). The
 * official client checks `structuredContent` against a listed tool's output schema even when
 * `isError` is set, and throws a schema error in place of the result: the denial goes in `_meta`.
 */
export function deniedCallResult(e: ToolDeniedError, outputSchema = false) {
  const text = [{ type: 'text' as const, text: `${e.humanMessage} (${e.code})\n${JSON.stringify(e.toJSON())}` }];
  return outputSchema
    ? { isError: true, content: text, _meta: { [DENIAL_META]: e.toJSON() } }
    : { isError: true, content: text, structuredContent: e.toJSON() };
}

export function governMcpServer<S extends object>(server: S, options: McpGovernOptions = {}): S {
  const low = ((server as { server?: object }).server ?? server) as { _requestHandlers?: unknown };
  const table = low._requestHandlers;
  if (!(table instanceof Map))
    throw new TypeError('governMcpServer takes an @modelcontextprotocol/sdk McpServer or Server (1.x): no request handler table found');
  if (isGoverned(table)) return server;
  const gov = new Governor(options);
  const prefix = options.toolPrefix ?? '';
  const governed = (handler: Handler): Handler => {
    return async (request, extra) => {
      const name = request.params?.name;
      if (typeof name !== 'string') return handler(request, extra);
      try {
        // McpServer parses a registered tool's arguments with its schema before the callback runs.
        const schema = (server as { _registeredTools?: Record<string, { inputSchema?: unknown }> })._registeredTools?.[name]?.inputSchema;
        const args = argsObject(asParsed(schema, request.params?.arguments ?? {}));
        return await gov.run(`${prefix}${name}`, args, () => handler(request, extra), {
          ...(extra?.sessionId ? { sessionId: extra.sessionId } : {}),
        });
      } catch (e) {
        if (e instanceof ToolDeniedError) return deniedCallResult(e, await mayHaveOutputSchema(server, handlers, name, extra));
        throw e;
      }
    };
  };
  const handlers = table as Map<string, Handler>;
  const existing = handlers.get('tools/call');
  if (existing) Map.prototype.set.call(handlers, 'tools/call', governed(existing));
  // A handler installed later (McpServer installs its own on the first registerTool) is governed too.
  Object.defineProperty(handlers, 'set', {
    value(method: string, handler: Handler) {
      return Map.prototype.set.call(this, method, method === 'tools/call' ? governed(handler) : handler);
    },
  });
  Object.defineProperty(handlers, GOVERNED, { value: true });
  return server;
}

/**
 * Whether the tool `name` declares an output schema, or might: an McpServer's registered tool says;
 * a low-level Server's own tools/list handler is asked (its first page). Unknown counts as yes, since
 * a denial in `_meta` is valid for every tool and one in `structuredContent` only for some.
 */
async function mayHaveOutputSchema(
  server: object,
  handlers: Map<string, Handler>,
  name: string,
  extra: { sessionId?: string } | undefined,
): Promise<boolean> {
  const registered = (server as { _registeredTools?: Record<string, { outputSchema?: unknown }> })._registeredTools;
  if (registered) return registered[name] === undefined || registered[name].outputSchema !== undefined;
  try {
    const listed = (await handlers.get('tools/list')?.({ method: 'tools/list', params: {} }, extra)) as
      { tools?: { name?: unknown; outputSchema?: unknown }[] } | undefined;
    const tool = listed?.tools?.find((t) => t.name === name);
    return tool === undefined || tool.outputSchema !== undefined;
  } catch {
    return true;
  }
}
