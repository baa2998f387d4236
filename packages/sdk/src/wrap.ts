/**
 * One tool, governed, in the shape it came in. Each framework calls its tools through a different
 * door, and the wrapper guards that door:
 *
 * - a plain function: called with the arguments object; a denial throws ToolDeniedError;
 * - LangChain.js (`tool()`, any StructuredTool): `_call(args, runManager, config)`, after LangChain
 *   parsed the arguments; the session is LangGraph's `configurable.thread_id`;
 * - OpenAI Agents JS (`tool()`): `invoke(runContext, jsonText, details)`, decided on the JSON as the
 *   model sent it (the tool keeps its zod schema to itself); its local shell, apply_patch and computer
 *   tools at the object the runner calls (openai-local.ts);
 * - the Vercel AI SDK (`tool({...})`) and Mastra (`createTool`): `execute(input, options)`; Mastra's
 *   memory thread is the session.
 *
 * In a framework's tool loop the model should see a denial and react (apologise, wait, ask), so a
 * framework tool returns the structured denial as its result unless `denialResult: false`.
 */
import { ToolDeniedError } from './errors.js';
import { withCredentialEach, type CallContext, type Governor } from './govern.js';
import { governedLocalPart, localToolKind } from './openai-local.js';

/** Marks what is already governed, so wrapping twice (by hand and by autoload) decides once. */
export const GOVERNED = Symbol.for('faramesh.governed');

type Fn = (...args: never[]) => unknown;
type Obj = Record<string | symbol, unknown>;

export interface WrapOptions {
  /** Framework tools: return the denial to the model as the tool's result (default) or let it throw. */
  denialResult?: boolean;
}

/** Arguments as the daemon wants them: an object (anything else is wrapped). */
export function argsObject(value: unknown): Record<string, unknown> {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  return value === undefined ? {} : { input: value };
}

/**
 * The arguments as the tool's body will get them. A framework that parses them with the tool's
 * schema before the body runs (Mastra, an MCP server's registered tool) may coerce `"5000"` to 5000
 * or fill defaults, so the policy decides on the parsed value, not on what the model sent. What the
 * schema refuses is decided as sent: the framework refuses it before the body runs.
 */
export function asParsed(schema: unknown, input: unknown): unknown {
  const parse = (schema as { safeParse?: unknown } | null | undefined)?.safeParse;
  if (typeof parse !== 'function') return input;
  try {
    const r = (parse as (v: unknown) => { success?: unknown; data?: unknown }).call(schema, input);
    return r?.success === true ? r.data : input;
  } catch {
    // An asynchronous refinement (zod refuses to run it synchronously): decided as sent.
    return input;
  }
}

/**
 * Mastra's `createTool` parses its input inside `execute` (when called by hand as well as by an
 * Agent), so its wrapper must apply the schema to decide on what the body gets. The AI SDK (and any
 * other `execute` tool) parses before it calls `execute`: parsing again would decide on a value the
 * body never sees (a `transform` applied twice).
 */
const MASTRA_TOOL = Symbol.for('mastra.core.tool.Tool');
const parsesInside = (t: Obj): boolean => t[MASTRA_TOOL] === true;

export const isGoverned = (t: unknown): boolean => (typeof t === 'object' || typeof t === 'function') && t !== null && GOVERNED in t;

const isObj = (t: unknown): t is Obj => typeof t === 'object' && t !== null;
const fn = (t: Obj, key: string): Fn | undefined => (typeof t[key] === 'function' ? (t[key] as Fn) : undefined);

export type ToolKind = 'function' | 'langchain' | 'openai-agents' | 'openai-local' | 'execute';

export function kindOf(tool: unknown): ToolKind | undefined {
  if (typeof tool === 'function') return 'function';
  if (!isObj(tool)) return undefined;
  if (fn(tool, '_call') && fn(tool, 'invoke') && typeof tool.name === 'string') return 'langchain';
  if (tool.type === 'function' && fn(tool, 'invoke') && typeof tool.name === 'string') return 'openai-agents';
  if (localToolKind(tool)) return 'openai-local';
  if (fn(tool, 'execute')) return 'execute';
  return undefined;
}

/**
 * A tool this process never runs, so there is no call here to decide: an AI SDK tool without
 * `execute` (the framework hands its call back to the application, or the provider runs it, as a
 * hosted web search) and an OpenAI Agents JS hosted tool (run at OpenAI). Refusing it would make a
 * ToolSet holding one, and under autoload every generateText given it, throw; it is returned as it
 * is (autoload leaves OpenAI's hosted tools so too). Anything else the SDK cannot call stays an error.
 */
export function runsElsewhere(tool: unknown): boolean {
  if (!isObj(tool) || tool.execute !== undefined) return false;
  if (tool.type === 'hosted_tool') return true;
  return tool.type === 'provider' || tool.type === 'provider-defined' || isObj(tool.inputSchema) || isObj(tool.parameters);
}

/** The name a framework tool goes by, for tools given in an array. */
export function toolName(tool: unknown): string | undefined {
  if (typeof tool === 'function') return tool.name || undefined;
  if (!isObj(tool)) return undefined;
  const name = tool.name ?? tool.id;
  return typeof name === 'string' && name ? name : undefined;
}

export function wrapTool(gov: Governor, toolId: string, tool: unknown, options: WrapOptions = {}): unknown {
  if (isGoverned(tool)) return tool;
  const asResult = options.denialResult ?? true;
  const denied = <R>(shape: (e: ToolDeniedError) => R) => deniedAs(asResult, shape);
  switch (kindOf(tool)) {
    case 'function': {
      const f = tool as Fn;
      const wrapped = async (...a: never[]) => gov.run(toolId, argsObject(a.length <= 1 ? a[0] : a), () => f(...a));
      return mark(Object.defineProperty(wrapped, 'name', { value: f.name }));
    }
    case 'langchain': {
      const t = tool as Obj;
      return clone(t, { _call: governedLangChainCall(gov, toolId, fn(t, '_call')!, t.responseFormat, asResult) });
    }
    case 'openai-agents': {
      const t = tool as Obj;
      return clone(t, { invoke: governedOpenAIInvoke(gov, toolId, fn(t, 'invoke')!, asResult) });
    }
    case 'openai-local': {
      const t = tool as Obj;
      return clone(t, {}, governedLocalPart(gov, toolId, localToolKind(t)!, t, denied));
    }
    case 'execute': {
      const t = tool as Obj;
      const execute = fn(t, 'execute')!;
      const decided = (input: unknown) => argsObject(parsesInside(t) ? asParsed(t.inputSchema, input) : input);
      // An AI SDK tool that streams its results (`async *execute`): the framework iterates what
      // execute returns, so the governed one must be a generator too, deciding before the first step.
      if (Object.prototype.toString.call(execute) === '[object AsyncGeneratorFunction]')
        return clone(t, {
          execute: async function* (this: Obj, input: unknown, context?: unknown) {
            const out = await gov
              .run(toolId, decided(input), (_credential, grant) =>
                // The body runs as the framework iterates, after the decision: credential() in every step.
                withCredentialEach(grant, execute.call(this, input as never, context as never) as AsyncIterator<unknown>),
              )
              .catch(denied((e) => e.toJSON()));
            if (typeof (out as AsyncIterable<unknown> | null)?.[Symbol.asyncIterator] === 'function') yield* out as AsyncIterable<unknown>;
            else yield out;
          } as Fn,
        });
      return clone(t, {
        execute(this: Obj, input: unknown, context?: { agent?: { threadId?: unknown } }) {
          const thread = context?.agent?.threadId;
          return gov
            .run(toolId, decided(input), () => execute.call(this, input as never, context as never), {
              ...(typeof thread === 'string' ? { sessionId: thread } : {}),
            })
            .catch(denied((e) => e.toJSON()));
        },
      });
    }
    default:
      if (runsElsewhere(tool)) return tool;
      throw new TypeError(`governedTools: ${toolId} is neither a function nor a tool this SDK knows how to call`);
  }
}

/** A framework tool's denial, as the framework expects a tool's result to look (when `asResult`). */
function deniedAs<R>(asResult: boolean, shape: (e: ToolDeniedError) => R): (e: unknown) => R {
  return (e) => {
    if (asResult && e instanceof ToolDeniedError) return shape(e);
    throw e;
  };
}

/**
 * A LangChain tool's `_call`, governed. `content_and_artifact` tools return [content, artifact]: a
 * denial is then both (text for the model, the structured denial as the artifact).
 */
export function governedLangChainCall(gov: Governor, toolId: string, call: Fn, responseFormat: unknown, asResult = true): Fn {
  return function (this: unknown, args: unknown, runManager?: unknown, config?: LangChainConfig) {
    return gov
      .run(toolId, argsObject(args), () => call.call(this, args as never, runManager as never, config as never), langChainContext(config))
      .catch(deniedAs(asResult, (e) => (responseFormat === 'content_and_artifact' ? [asText(e), e.toJSON()] : asText(e))));
  } as Fn;
}

/** An OpenAI Agents JS function tool's `invoke(runContext, jsonText, details)`, governed: decided on the JSON the model sent. */
export function governedOpenAIInvoke(gov: Governor, toolId: string, invoke: Fn, asResult = true): Fn {
  return function (this: unknown, runContext: unknown, input: string, details?: unknown) {
    return gov
      .run(toolId, argsObject(parseJson(input)), () => invoke.call(this, runContext as never, input as never, details as never))
      .catch(deniedAs(asResult, asText));
  } as Fn;
}

interface LangChainConfig {
  configurable?: { thread_id?: unknown; request_id?: unknown };
  metadata?: { request_id?: unknown };
}

/** A LangChain call's session (the graph's thread) and correlation id (`request_id` in its metadata or configurable). */
function langChainContext(config: LangChainConfig | undefined): CallContext {
  const thread = config?.configurable?.thread_id;
  const request = config?.metadata?.request_id ?? config?.configurable?.request_id;
  return {
    ...(typeof thread === 'string' ? { sessionId: thread } : {}),
    ...(typeof request === 'string' && request !== '' ? { requestId: request } : {}),
  };
}

/** A denial as the text a framework tool returns to the model. */
export const asText = (e: ToolDeniedError) => JSON.stringify(e.toJSON());

/** The same object (prototype, getters and all) with some methods replaced; class instances stay instances. */
function clone(t: Obj, methods: Record<string, Fn>, members: Record<string, unknown> = {}): Obj {
  const copy = Object.create(Object.getPrototypeOf(t), Object.getOwnPropertyDescriptors(t)) as Obj;
  for (const [k, m] of Object.entries({ ...methods, ...members }))
    Object.defineProperty(copy, k, { value: m, writable: true, configurable: true, enumerable: true });
  return mark(copy);
}

function mark<T extends object>(t: T): T {
  Object.defineProperty(t, GOVERNED, { value: true });
  return t;
}

function parseJson(text: unknown): unknown {
  if (typeof text !== 'string') return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { input: text };
  }
}
