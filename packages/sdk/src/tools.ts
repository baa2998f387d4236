/**
 * governedTools: the same registry back, every tool decided before it runs. Accepted: an object of
 * plain async functions (the key is the tool id), an object of AI SDK `tool({...})` objects (a
 * ToolSet), or an array of tools carrying a `name` (or `id`). With the AI SDK a denial is returned
 * to the model as the tool's result — the structured denial — so the loop can react.
 */
import { ToolDeniedError } from './errors.js';
import { Governor, type GovernOptions } from './govern.js';

type AnyFn = (...args: never[]) => unknown;
interface ExecutableTool {
  execute: (input: unknown, options?: unknown) => unknown;
  name?: string;
  id?: string;
}

const isExecutable = (t: unknown): t is ExecutableTool =>
  typeof t === 'object' && t !== null && typeof (t as ExecutableTool).execute === 'function';

/** Arguments as the daemon wants them: an object (anything else is wrapped). */
export function argsObject(value: unknown): Record<string, unknown> {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  return value === undefined ? {} : { input: value };
}

export function governedTools<T extends Record<string, unknown> | unknown[]>(toolSet: T, options: GovernOptions = {}): T {
  const gov = new Governor(options);
  if (Array.isArray(toolSet))
    return toolSet.map((t, i) => {
      const name = isExecutable(t) ? (t.name ?? t.id) : typeof t === 'function' ? t.name : undefined;
      if (!name) throw new TypeError(`governedTools: tool #${i} has no name (or id) to decide it by`);
      return wrap(gov, name, t);
    }) as T;
  if (typeof toolSet !== 'object' || toolSet === null) throw new TypeError('governedTools takes an object or an array of tools');
  return Object.fromEntries(Object.entries(toolSet).map(([key, t]) => [key, wrap(gov, key, t)])) as T;
}

function wrap(gov: Governor, toolId: string, tool: unknown): unknown {
  if (typeof tool === 'function') {
    const fn = tool as AnyFn;
    // A plain function: its first argument is the arguments object.
    return async (...a: never[]) => gov.run(toolId, argsObject(a.length <= 1 ? a[0] : a), () => fn(...a));
  }
  if (isExecutable(tool)) {
    const execute = tool.execute.bind(tool);
    return {
      ...tool,
      execute: async (input: unknown, opts?: unknown) => {
        try {
          return await gov.run(toolId, argsObject(input), () => execute(input, opts));
        } catch (e) {
          // The model sees the structured denial as the tool's result, and can react to it.
          if (e instanceof ToolDeniedError) return e.toJSON();
          throw e;
        }
      },
    };
  }
  throw new TypeError(`governedTools: ${toolId} is neither a function nor a tool with execute()`);
}
