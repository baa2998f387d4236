/**
 * Tool registrations found in a project's Python and TypeScript/JavaScript sources, by the patterns
 * each framework registers tools with (`@tool`, `@function_tool`, `server.tool("…")`, `tools=[…]`,
 * …), plus Bedrock action-group JSON and Deep Agents skills. A heuristic, made to over-find rather
 * than miss: every tool found becomes a `defer` rule that an operator reviews. Every pattern runs in
 * linear time on bounded input, and the walk is bounded in files and bytes.
 */
import { readdirSync, type Dirent } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { patternProblem } from '@faramesh/fpl';
import { bedrockActionGroups, read, type Framework } from './detect.js';

const SOURCE_EXTENSIONS = new Set(['.py', '.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs']);
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'build', 'out', 'target', 'venv', 'env', '__pycache__', 'site-packages', 'vendor']);
const MAX_FILES = 5_000;
const MAX_DEPTH = 12;

/** A decorator line, and the `def` it decorates within the next few lines. */
interface Decorator {
  frameworks: readonly Framework[] | 'all';
  re: RegExp;
}

const DECORATORS: Decorator[] = [
  { frameworks: ['langgraph', 'crewai', 'google-adk', 'strands'], re: /^\s*@tool\b(?:\(\s*["']([^"'\n]{1,100})["'])?/ },
  { frameworks: ['openai-agents'], re: /^\s*@function_tool\b(?:\(\s*name_override\s*=\s*["']([^"'\n]{1,100})["'])?/ },
  {
    frameworks: ['ag2'],
    re: /^\s*@(?:[A-Za-z_]\w*\.)?register_for_(?:execution|llm)\b(?:\([^)\n]{0,300}?\bname\s*=\s*["']([^"'\n]{1,100})["'])?/,
  },
  { frameworks: ['mcp'], re: /^\s*@[A-Za-z_]\w*\.tool\b(?:\([^)\n]{0,300}?\bname\s*=\s*["']([^"'\n]{1,100})["'])?/ },
];
const DEF = /^\s*(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(/;

/** Patterns whose first group is the tool's name. */
interface Call {
  frameworks: readonly Framework[] | 'all';
  re: RegExp;
}

const CALLS: Call[] = [
  // LangChain: Tool(name="x", …), StructuredTool(name="x"), StructuredTool.from_function(…, name="x").
  {
    frameworks: ['langgraph', 'crewai'],
    re: /\b(?:Structured)?Tool(?:\.from_function)?\([^()]{0,400}?\bname\s*=\s*["']([^"'\n]{1,100})["']/g,
  },
  // Google ADK and OpenAI Agents: FunctionTool(func=x) or FunctionTool(x).
  { frameworks: ['google-adk', 'openai-agents'], re: /\bFunctionTool\(\s*(?:func\s*=\s*)?([A-Za-z_]\w*)\s*[,)]/g },
  // AG2: register_function(x, …).
  { frameworks: ['ag2'], re: /\bregister_function\(\s*([A-Za-z_]\w*)\s*,/g },
  // MCP: server.tool("x", …), server.registerTool("x", …), mcp.add_tool(x).
  { frameworks: ['mcp'], re: /\.(?:tool|registerTool)\(\s*["'`]([^"'`\n]{1,100})["'`]/g },
  { frameworks: ['mcp'], re: /\badd_tool\(\s*([A-Za-z_]\w*)\s*[,)]/g },
  // LangChain JS: .tool(…, { name: "x" }) is caught below; `.tool("x"` above.
  // A tool definition object: { name: "x", description: … } (Anthropic, OpenAI Agents JS, LangChain JS).
  { frameworks: 'all', re: /["']?\bname["']?\s*:\s*["'`]([\w.-]{1,100})["'`]\s*,\s*["']?description["']?\s*:/g },
];

/** `tools=[a, b]` (Google ADK, OpenAI Agents): the bare names in the list. */
const TOOLS_LIST = /\btools\s*=\s*\[([^\]]{0,2000})\]/g;
const CREW_CLASS = /^\s*class\s+([A-Za-z_]\w*)\s*\(\s*BaseTool\s*\)/;
const CREW_NAME = /^\s*name\s*(?::\s*str)?\s*=\s*["']([^"'\n]{1,100})["']/;

export interface Discovery {
  /** Tool ids, in the order first found. */
  tools: string[];
  /** How many source files were read. */
  files: number;
  /** True when the walk stopped at its file limit. */
  truncated: boolean;
}

/** The tools `frameworks` register in `dir` (every framework's patterns when the list is empty). */
export function discoverTools(dir: string, frameworks: readonly Framework[]): Discovery {
  const applies = (f: readonly Framework[] | 'all') => f === 'all' || frameworks.length === 0 || f.some((x) => frameworks.includes(x));
  const found = new Set<string>();
  const add = (name: string | undefined) => {
    const id = name === undefined ? undefined : toolId(name);
    if (id !== undefined) found.add(id);
  };
  const files = sourceFiles(dir);
  for (const file of files.list) {
    const text = read(file);
    if (!text) continue;
    const python = extname(file) === '.py';
    if (python) scanPython(text, applies, add);
    for (const c of CALLS) if (applies(c.frameworks)) for (const m of text.matchAll(c.re)) add(m[1]);
    if (applies(['google-adk', 'openai-agents']))
      for (const m of text.matchAll(TOOLS_LIST))
        for (const item of m[1]!.split(',')) if (/^\s*[A-Za-z_]\w*\s*$/.test(item)) add(item.trim());
  }
  if (applies(['bedrock'])) for (const file of bedrockActionGroups(dir)) for (const name of actionGroupTools(read(file))) add(name);
  if (applies(['deepagents'])) for (const skill of skills(dir)) add(skill);
  return { tools: [...found], files: files.list.length, truncated: files.truncated };
}

function scanPython(text: string, applies: (f: readonly Framework[] | 'all') => boolean, add: (n: string | undefined) => void): void {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    for (const d of DECORATORS) {
      if (!applies(d.frameworks)) continue;
      const m = d.re.exec(line);
      if (!m) continue;
      if (m[1] !== undefined) add(m[1]);
      else
        for (let j = i + 1; j < Math.min(lines.length, i + 6); j++) {
          // A stacked decorator that names the tool speaks for it.
          if (DECORATORS.some((other) => other.re.exec(lines[j]!)?.[1] !== undefined)) break;
          const def = DEF.exec(lines[j]!);
          if (def) {
            add(def[1]);
            break;
          }
        }
    }
    const crew = applies(['crewai']) ? CREW_CLASS.exec(line) : null;
    if (crew) {
      let name: string | undefined;
      for (let j = i + 1; j < Math.min(lines.length, i + 12) && name === undefined; j++) name = CREW_NAME.exec(lines[j]!)?.[1];
      add(name ?? snake(crew[1]!));
    }
  }
}

/**
 * A name as a tool id. A name without whitespace is the id the framework sends, kept as it is (a rule
 * must name exactly that: `_lookup` is not `lookup`). A name with spaces, which no rule can name,
 * becomes snake case: spaces and punctuation become `_`. Undefined when nothing valid is left.
 */
export function toolId(name: string): string | undefined {
  const trimmed = name.trim();
  const id = /\s/.test(trimmed)
    ? trimmed
        .replace(/[^A-Za-z0-9_.\-/]+/g, '_')
        .replace(/_+/g, '_')
        .replace(/^_|_$/g, '')
        .toLowerCase()
    : trimmed;
  return id && !patternProblem(id) && !id.includes('*') ? id : undefined;
}

const snake = (camel: string) => camel.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();

/** Function names of a Bedrock action group file (`functionSchema.functions[].name`), else its group names. */
function actionGroupTools(text: string): string[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return [];
  }
  const names: string[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth > 32 || v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) return v.forEach((x) => walk(x, depth + 1));
    const o = v as Record<string, unknown>;
    const group = o.actionGroupName ?? o.action_group ?? o.actionGroup;
    const functions = (o.functionSchema as { functions?: unknown } | undefined)?.functions;
    if (typeof group === 'string') {
      const fns = Array.isArray(functions)
        ? functions.map((f) => (f as { name?: unknown })?.name).filter((n) => typeof n === 'string')
        : [];
      names.push(...(fns.length > 0 ? (fns as string[]) : [group]));
    }
    for (const x of Object.values(o)) walk(x, depth + 1);
  };
  walk(json, 0);
  return names;
}

/** Deep Agents skills: `skills/<name>/SKILL.md`. */
function skills(dir: string): string[] {
  return entries(join(dir, 'skills'))
    .filter((e) => e.isDirectory() && entries(join(dir, 'skills', e.name)).some((f) => f.name === 'SKILL.md'))
    .map((e) => e.name);
}

/** Source files under `dir`, skipping dependencies, build output and hidden directories. */
function sourceFiles(dir: string): { list: string[]; truncated: boolean } {
  const list: string[] = [];
  let truncated = false;
  const walk = (d: string, depth: number) => {
    for (const e of entries(d)) {
      if (list.length >= MAX_FILES) return void (truncated = true);
      if (e.name.startsWith('.')) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (!SKIPPED_DIRS.has(e.name) && depth < MAX_DEPTH) walk(p, depth + 1);
      } else if (e.isFile() && SOURCE_EXTENSIONS.has(extname(e.name)) && !basename(e.name).endsWith('.d.ts')) list.push(p);
    }
  };
  walk(dir, 0);
  return { list, truncated };
}

function entries(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch {
    return [];
  }
}

/** Whether any source file defines a tool with an `input_schema` (the Anthropic SDK's tool shape). */
export function hasInputSchemas(dir: string): boolean {
  return sourceFiles(dir).list.some((f) => /\binput_schema\b|\binputSchema\b/.test(read(f)));
}
