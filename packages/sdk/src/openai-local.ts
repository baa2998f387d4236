/**
 * OpenAI Agents JS tools that act on this machine without an `invoke`: a local `shellTool` (its
 * `shell.run(action)`), `applyPatchTool` (its `editor.createFile/updateFile/deleteFile(operation)`)
 * and `computerTool` (its computer's `click`, `type`, … and `screenshot`). Each is governed at the
 * object the runner calls, decided as the tool's name on what the model asked for:
 *
 * - shell: `{ commands, timeoutMs?, maxOutputLength? }`, the action as the model sent it;
 * - apply_patch: the operation, `{ type: "create_file" | "update_file" | "delete_file", path, diff? }`;
 * - computer: `{ action: "click" | "double_click" | "drag" | "keypress" | "move" | "scroll" | "type" |
 *   "wait" | "screenshot", … }` with that action's fields, as the model names them.
 *
 * A hosted shell (run in OpenAI's container) has no `shell` here, and hosted tools run elsewhere:
 * neither reaches this machine, and neither is governed by the SDK.
 */
import type { ToolDeniedError } from './errors.js';
import type { Governor } from './govern.js';
import { argsObject, asText } from './wrap.js';

type Fn = (...args: never[]) => unknown;
type Obj = Record<string | symbol, unknown>;

export type LocalToolKind = 'shell' | 'apply_patch' | 'computer';

const isObj = (t: unknown): t is Obj => typeof t === 'object' && t !== null;
const hasFn = (t: unknown, key: string): boolean => isObj(t) && typeof t[key] === 'function';

/** Which local OpenAI Agents tool `t` is, if it is one the SDK can govern. */
export function localToolKind(t: Obj): LocalToolKind | undefined {
  if (typeof t.name !== 'string') return undefined;
  if (t.type === 'shell' && hasFn(t.shell, 'run')) return 'shell';
  if (t.type === 'apply_patch' && isObj(t.editor)) return 'apply_patch';
  if (t.type === 'computer' && t.computer !== undefined) return 'computer';
  return undefined;
}

/** The member of `t` the runner calls, governed (the rest of `t` left as it is). */
export function governedLocalPart(
  gov: Governor,
  toolId: string,
  kind: LocalToolKind,
  t: Obj,
  denied: <R>(shape: (e: ToolDeniedError) => R) => (e: unknown) => R,
): Record<string, unknown> {
  switch (kind) {
    case 'shell': {
      const shell = t.shell as Obj;
      const run = shell.run as Fn;
      return {
        // The runner reports a failure as the command's stderr: a denial reads the same way.
        shell: over(shell, {
          run: (action: unknown) =>
            gov
              .run(toolId, argsObject(action), () => run.call(shell, action as never))
              .catch(denied((e) => ({ output: [{ stdout: '', stderr: asText(e), outcome: { type: 'exit', exitCode: null } }] }))),
        }),
      };
    }
    case 'apply_patch': {
      const editor = t.editor as Obj;
      const methods: Record<string, Fn> = {};
      for (const m of ['createFile', 'updateFile', 'deleteFile']) {
        const f = editor[m];
        if (typeof f !== 'function') continue;
        methods[m] = ((operation: unknown, context: unknown) =>
          gov
            .run(toolId, argsObject(operation), () => (f as Fn).call(editor, operation as never, context as never))
            .catch(denied((e) => ({ status: 'failed', output: asText(e) })))) as Fn;
      }
      return { editor: over(editor, methods) };
    }
    case 'computer':
      return { computer: governedComputerSource(gov, toolId, t.computer) };
  }
}

/**
 * The computer, an initializer `({ runContext }) => computer`, or a provider `{ create, dispose }`:
 * whichever it is, the computer it yields is governed. A denied action throws: it does not happen,
 * and the denial is on the record. The runner (OpenAI Agents JS 0.20) then hands the model an empty
 * screenshot, not the reason: a computer call's result has no text to carry it.
 */
function governedComputerSource(gov: Governor, toolId: string, source: unknown): unknown {
  if (typeof source === 'function') return async (...a: never[]) => governedComputer(gov, toolId, await (source as Fn)(...a));
  if (isObj(source) && typeof source.create === 'function' && !hasFn(source, 'click')) {
    const create = source.create as Fn;
    return over(source, { create: (async (...a: never[]) => governedComputer(gov, toolId, await create.call(source, ...a))) as Fn });
  }
  return governedComputer(gov, toolId, source);
}

/** Each action a computer takes, as the model names it, with the arguments it gets. */
const ACTIONS: Record<string, (...a: unknown[]) => Record<string, unknown>> = {
  click: (x, y, button) => ({ action: 'click', x, y, button }),
  doubleClick: (x, y) => ({ action: 'double_click', x, y }),
  drag: (path) => ({ action: 'drag', path: Array.isArray(path) ? path.map((p) => (Array.isArray(p) ? { x: p[0], y: p[1] } : p)) : path }),
  keypress: (keys) => ({ action: 'keypress', keys }),
  move: (x, y) => ({ action: 'move', x, y }),
  scroll: (x, y, scrollX, scrollY) => ({ action: 'scroll', x, y, scroll_x: scrollX, scroll_y: scrollY }),
  type: (text) => ({ action: 'type', text }),
  wait: () => ({ action: 'wait' }),
  screenshot: () => ({ action: 'screenshot' }),
};

function governedComputer(gov: Governor, toolId: string, computer: unknown): unknown {
  if (!isObj(computer)) return computer;
  const methods: Record<string, Fn> = {};
  for (const [m, args] of Object.entries(ACTIONS)) {
    const f = computer[m];
    if (typeof f !== 'function') continue;
    // The run context comes last and is the framework's, not the model's: it is not decided on.
    const arity = args.length;
    methods[m] = ((...a: unknown[]) =>
      gov.run(toolId, args(...a.slice(0, arity)), () => (f as (...x: unknown[]) => unknown).apply(computer, a))) as Fn;
  }
  return over(computer, methods);
}

/**
 * `target` with `methods` in front. Every other member is read from `target` itself (getters and
 * methods see `target` as `this`), so a class with private fields still works.
 */
function over(target: Obj, methods: Record<string, Fn>): Obj {
  return new Proxy(target, {
    get(t, key) {
      if (typeof key === 'string' && Object.prototype.hasOwnProperty.call(methods, key)) return methods[key];
      const v = Reflect.get(t, key, t) as unknown;
      return typeof v === 'function' ? (v as Fn).bind(t) : v;
    },
  });
}
