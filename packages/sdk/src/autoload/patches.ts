/**
 * What FARAMESH_AUTOLOAD changes in each framework, given the framework's real module. Functions
 * that take or make tools are replaced (the ESM shim and the CommonJS hook export these instead);
 * class-based entry points are patched on their prototype, so instances made anywhere are governed.
 * The agent is FARAMESH_AGENT_ID, the transport the one the environment names; tools the program
 * governed itself are left alone (wrapping is idempotent).
 */
import { Governor, type GovernOptions } from '../govern.js';
import { governMcpServer } from '../mcp.js';
import { governedTools } from '../tools.js';
import { TARGETS } from './targets.js';
import { GOVERNED, governedLangChainCall, governedOpenAIInvoke, isGoverned, kindOf, toolName, wrapTool } from '../wrap.js';

type Fn = (...args: unknown[]) => unknown;
type Module = Record<string, unknown>;
type Overrides = (real: Module) => Module;

/** One options object for the process, so every autoloaded tool shares one transport. */
const options: GovernOptions = {};
let governor: Governor | undefined;
const gov = () => (governor ??= new Governor(options));

const withTools =
  (f: unknown) =>
  (settings: { tools?: Record<string, unknown> } | undefined, ...rest: unknown[]) =>
    (f as Fn)(settings?.tools ? { ...settings, tools: governedTools(settings.tools, options) } : settings, ...rest);

/** A subclass whose constructor governs the `tools` it is given (an object or an array). */
function governingSubclass(Base: unknown): unknown {
  if (typeof Base !== 'function') return Base;
  const B = Base as new (settings?: { tools?: unknown }, ...rest: unknown[]) => object;
  return class extends B {
    constructor(settings?: { tools?: unknown }, ...rest: unknown[]) {
      const tools = settings?.tools;
      super(tools && typeof tools === 'object' ? { ...settings, tools: governedTools(tools as Module, options) } : settings, ...rest);
    }
  };
}

const namedTool = (make: unknown) => (config: unknown) => {
  const t = (make as Fn)(config);
  const name = toolName(t);
  return name ? wrapTool(gov(), name, t) : t;
};

/** Govern each LangChain tool lazily, on its first call: every StructuredTool subclass goes through `call`. */
function patchLangChain(real: Module): void {
  const proto = (real.StructuredTool as { prototype?: Record<string, unknown> } | undefined)?.prototype;
  if (!proto || isGoverned(proto)) return;
  const call = proto.call as Fn;
  proto.call = function (this: Record<string, unknown>, ...args: unknown[]) {
    if (!Object.prototype.hasOwnProperty.call(this, GOVERNED)) {
      const governed = governedLangChainCall(gov(), String(this.name), this._call as Fn, this.responseFormat);
      Object.defineProperty(this, '_call', { value: governed, configurable: true, writable: true });
      Object.defineProperty(this, GOVERNED, { value: true });
    }
    return call.apply(this, args);
  };
  Object.defineProperty(proto, GOVERNED, { value: true });
}

/**
 * Every tool an OpenAI Agents JS Agent lists for a run, governed: those its `tool()` made (already
 * governed by the export replaced above), those the SDK makes of its `mcpServers` with its own
 * `tool()`, hand-built function tools, and the local shell, apply_patch and computer tools.
 * Function tools are governed in place (the SDK keys its MCP binding by the tool object); a local
 * tool is governed as a copy, the same copy each time (the SDK keeps a computer per tool object).
 */
function patchOpenAIAgent(Agent: unknown): void {
  const proto = (Agent as { prototype?: Record<string, unknown> } | undefined)?.prototype;
  if (!proto || typeof proto.getAllTools !== 'function' || Object.prototype.hasOwnProperty.call(proto, GOVERNED)) return;
  const list = proto.getAllTools as Fn;
  proto.getAllTools = async function (this: unknown, ...args: unknown[]) {
    const tools = await list.apply(this, args);
    return Array.isArray(tools) ? tools.map(governOpenAITool) : tools;
  };
  Object.defineProperty(proto, GOVERNED, { value: true });
}

const localCopies = new WeakMap<object, unknown>();

function governOpenAITool(t: unknown): unknown {
  const tool = t as Record<string, unknown> | null;
  if (typeof tool !== 'object' || tool === null || isGoverned(tool) || typeof tool.name !== 'string') return t;
  if (kindOf(tool) === 'openai-local') {
    let copy = localCopies.get(tool);
    if (!copy) localCopies.set(tool, (copy = wrapTool(gov(), tool.name, tool)));
    return copy;
  }
  if (tool.type !== 'function' || typeof tool.invoke !== 'function') return t;
  const invoke = governedOpenAIInvoke(gov(), tool.name, tool.invoke as Fn);
  Object.defineProperty(tool, 'invoke', { value: invoke, writable: true, configurable: true, enumerable: true });
  Object.defineProperty(tool, GOVERNED, { value: true });
  return t;
}

/** Govern every MCP server as it connects (McpServer connects through its low-level Server). */
function patchMcpServer(Server: unknown): void {
  const proto = (Server as { prototype?: Record<string, unknown> } | undefined)?.prototype;
  if (!proto || Object.prototype.hasOwnProperty.call(proto, GOVERNED)) return;
  const connect = proto.connect as Fn;
  proto.connect = function (this: object, ...args: unknown[]) {
    governMcpServer(this, options);
    return connect.apply(this, args);
  };
  Object.defineProperty(proto, GOVERNED, { value: true });
}

/** Per module specifier (the keys of TARGETS): its replaced exports, made from the real module. */
const OVERRIDES: Record<string, Overrides> = {
  ai: (m) => ({
    generateText: withTools(m.generateText),
    streamText: withTools(m.streamText),
    // streamText's low-memory twin runs the same tools.
    experimental_streamTextLowMemory: withTools(m.experimental_streamTextLowMemory),
    ToolLoopAgent: governingSubclass(m.ToolLoopAgent),
    Experimental_Agent: governingSubclass(m.Experimental_Agent),
  }),
  '@openai/agents': (m) => (patchOpenAIAgent(m.Agent), { tool: namedTool(m.tool) }),
  '@openai/agents-core': (m) => (patchOpenAIAgent(m.Agent), { tool: namedTool(m.tool) }),
  '@mastra/core/tools': (m) => ({ createTool: namedTool(m.createTool) }),
  '@mastra/core/agent': (m) => ({ Agent: governingSubclass(m.Agent) }),
  '@langchain/core/tools': (m) => (patchLangChain(m), {}),
  '@modelcontextprotocol/sdk/server/index.js': (m) => (patchMcpServer(m.Server), {}),
  '@modelcontextprotocol/sdk/server/mcp.js': (m) => (patchMcpServer(m.McpServer), {}),
};

/** The replaced exports of `specifier`, given its real module (patching prototypes on the way). */
export function autoloadOverrides(specifier: string, real: Module): Module {
  const names = TARGETS[specifier];
  const make = OVERRIDES[specifier];
  if (!names || !make) return {};
  const out = make(real);
  // A name the installed version does not export stays as it was (undefined).
  for (const name of names) if (real[name] === undefined) out[name] = undefined;
  return out;
}
