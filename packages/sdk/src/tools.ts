/**
 * governedTools: the same registry back, every tool decided before it runs. Accepted: an object of
 * tools (the key is the tool id, or a LangChain/OpenAI Agents tool's own name) — plain async functions, AI SDK `tool({...})` objects (a ToolSet),
 * Mastra tools, LangChain.js or OpenAI Agents JS tools — or an array of tools that carry a name (a
 * LangChain/OpenAI Agents tool list, AI SDK-shaped tools with `name` or `id`, named functions).
 */
import { Governor, type GovernOptions } from './govern.js';
import { kindOf, toolName, wrapTool, type WrapOptions } from './wrap.js';

export type GovernedToolsOptions = GovernOptions & WrapOptions;

export function governedTools<T extends Record<string, unknown> | unknown[]>(toolSet: T, options: GovernedToolsOptions = {}): T {
  const gov = new Governor(options);
  if (Array.isArray(toolSet))
    return toolSet.map((t, i) => {
      const name = toolName(t);
      if (!name) throw new TypeError(`governedTools: tool #${i} has no name (or id) to decide it by`);
      return wrapTool(gov, name, t, options);
    }) as T;
  if (typeof toolSet !== 'object' || toolSet === null) throw new TypeError('governedTools takes an object or an array of tools');
  return Object.fromEntries(Object.entries(toolSet).map(([key, t]) => [key, wrapTool(gov, idOf(key, t), t, options)])) as T;
}

/**
 * The tool id of an object's entry: the name the model calls it by. A LangChain.js or OpenAI Agents
 * JS tool carries its own (`governedTools({ searchDocs })` of a tool named `search_docs` is called
 * `search_docs`, and `faramesh init` writes its rule so); for the rest (functions, AI SDK and Mastra
 * tools) the key is that name.
 */
function idOf(key: string, tool: unknown): string {
  const kind = kindOf(tool);
  return kind === 'langchain' || kind === 'openai-agents' ? (toolName(tool) ?? key) : key;
}

/**
 * `new GovernedToolSet([searchDocs, sendEmail], { agentId })`, the reference's spelling: an array of
 * the same tools, each governed as governedTools governs it, so it goes wherever the framework takes
 * a tool list. (Its `map`, `filter`, … return plain arrays of the tools they keep, still governed.)
 */
export class GovernedToolSet<T = unknown> extends Array<T> {
  static override get [Symbol.species](): ArrayConstructor {
    return Array;
  }

  constructor(tools: readonly T[], options: GovernedToolsOptions = {}) {
    super();
    if (!Array.isArray(tools)) throw new TypeError('GovernedToolSet takes an array of named tools (governedTools takes an object too)');
    this.push(...governedTools([...tools], options));
  }

  /** `GovernedToolSet.from(tools)`: governed too (Array's own would call the constructor with a length). */
  static override from<U, V = U>(items: Iterable<U> | ArrayLike<U>, mapfn?: (v: U, k: number) => V, thisArg?: unknown): GovernedToolSet<V> {
    return new GovernedToolSet(mapfn ? Array.from(items, mapfn, thisArg) : (Array.from(items) as unknown as V[]));
  }

  /** `GovernedToolSet.of(searchDocs, sendEmail)`: governed too. */
  static override of<U>(...items: U[]): GovernedToolSet<U> {
    return new GovernedToolSet(items);
  }
}
