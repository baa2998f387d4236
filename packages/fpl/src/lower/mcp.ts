/**
 * `mcp_server "<name>" { … }`: an upstream MCP server the daemon's MCP proxy fronts, either spawned
 * over stdio (`command`, `args`, `env`, `cwd`) or reached over HTTP (`url`, `headers`, `transport`).
 * The name becomes the first segment of the tool ids the proxy exposes (`<name>/<tool>`), so it must
 * be a valid tool-id segment. `env("X")` in `env` and `headers` stays a `{ $env }` reference.
 */
import type { BlockNode } from '../syntax/ast.js';
import type { Span } from '../syntax/source.js';
import type { IRValue, McpServerIR } from '../ir.js';
import { BLOCKS } from '../schema.js';
import type { LowerContext } from './context.js';
import { walkBody, type Fields } from './fields.js';

/** Letters, digits, `_`, `-` and `.`: one segment of a tool id, safe in the proxy's `/mcp/<name>` path. */
const NAME = /^[A-Za-z0-9_.-]+$/;
const STDIO_ONLY = ['args', 'env', 'cwd'] as const;
const REMOTE_ONLY = ['headers', 'transport'] as const;

export function lowerMcpServer(ctx: LowerContext, block: BlockNode, name: string | undefined): McpServerIR {
  const f = walkBody(ctx, block, BLOCKS.mcp_server!, {});
  const label = block.labels[0];
  const what = `mcp_server "${name ?? ''}"`;
  if (label && name !== undefined) {
    const problem =
      name === ''
        ? 'is empty'
        : name === '.' || name === '..'
          ? `cannot be '${name}'`
          : name.includes('/')
            ? "contains '/': it is one segment of the tool ids <name>/<tool>"
            : !NAME.test(name)
              ? 'may hold only letters, digits, _, - and .'
              : undefined;
    if (problem)
      ctx.error(label.span, 'invalid-name', `mcp_server name "${name}" ${problem}`, 'e.g. mcp_server "files" { … } serves files/<tool>');
  }

  const node = (key: string) => f.nodes.get(key)?.[0];
  const command = node('command');
  const url = node('url');
  if (!command && !url) {
    ctx.error(
      block.typeSpan,
      'missing-field',
      `${what} needs command = "…" (a program to spawn over stdio) or url = "https://…" (a remote server)`,
    );
  } else if (command && url) {
    ctx.error(url.nameSpan, 'conflicting-fields', `${what} sets both command and url: give exactly one`);
  }
  // Fields of the other form are errors only once the form is clear.
  const wrongForm = command && !url ? REMOTE_ONLY : url && !command ? STDIO_ONLY : [];
  for (const key of wrongForm) {
    const n = node(key);
    if (n)
      ctx.error(
        n.nameSpan,
        'conflicting-fields',
        command
          ? `${what}: '${key}' applies only to a remote server (url), not with command`
          : `${what}: '${key}' applies only to a spawned server (command), not with url`,
      );
  }

  const commandText = str(f, 'command');
  if (commandText !== undefined) {
    if (commandText.trim() === '') ctx.error(command!.value.span, 'invalid-value', `${what}: command is empty`);
    else if (/\s/.test(commandText) && !f.nodes.has('args'))
      ctx.warning(
        command!.value.span,
        'command-with-spaces',
        `${what}: command "${commandText}" is run as one program name, not through a shell`,
        'put the arguments in args = ["…"]',
      );
  }
  const cwd = str(f, 'cwd');
  if (cwd === '') ctx.error(node('cwd')!.value.span, 'invalid-value', `${what}: cwd is empty`);

  const urlText = str(f, 'url');
  if (urlText !== undefined) checkUrl(ctx, what, urlText, url!.value.span);

  return defined({
    name: name ?? '',
    command: commandText,
    args: (f.values.get('args') as string[] | undefined) ?? [],
    env: map(f, 'env'),
    cwd,
    url: urlText,
    headers: map(f, 'headers'),
    transport: str(f, 'transport') as McpServerIR['transport'],
    ref: ctx.ref(block.span),
  });
}

function checkUrl(ctx: LowerContext, what: string, text: string, span: Span): void {
  let parsed: URL | undefined;
  try {
    parsed = new URL(text);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1];
    ctx.error(
      span,
      'invalid-value',
      `${what}: url must be an http:// or https:// URL, got "${text}"`,
      scheme && /^wss?$/i.test(scheme) ? 'MCP servers are reached over Streamable HTTP or SSE, not WebSocket' : undefined,
    );
    return;
  }
  if (parsed.username || parsed.password) {
    ctx.error(
      span,
      'invalid-value',
      `${what}: url carries credentials, which would be written into the compiled policy`,
      'send them as a header instead: headers = { Authorization = env("…") }',
    );
  }
}

const str = (f: Fields, key: string) => {
  const v = f.values.get(key);
  return typeof v === 'string' ? v : undefined;
};

const map = (f: Fields, key: string) => (f.values.get(key) as { [key: string]: IRValue } | undefined) ?? {};

/** Drop the optional fields that were not given, so they stay absent from the IR. */
function defined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}
