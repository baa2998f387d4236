/**
 * Which agent framework a project uses, from its manifests: Python requirements and pyproject,
 * package.json, and the marker files of Deep Agents and Bedrock action groups. Reading only; a
 * manifest that cannot be read or parsed counts as absent.
 */
import { closeSync, constants, existsSync, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';

export type Framework =
  'langgraph' | 'crewai' | 'ag2' | 'google-adk' | 'openai-agents' | 'anthropic' | 'strands' | 'bedrock' | 'mcp' | 'deepagents';

/** In the order the docs list them: the first is the likeliest when a project matches several. */
export const FRAMEWORKS: readonly Framework[] = [
  'langgraph',
  'crewai',
  'ag2',
  'google-adk',
  'openai-agents',
  'anthropic',
  'strands',
  'bedrock',
  'mcp',
  'deepagents',
];

/** The dependency names (Python or npm, lower case) that mark each framework. */
const DEPENDENCIES: Record<Framework, readonly string[]> = {
  langgraph: ['langgraph', 'langchain', 'langchain-core', '@langchain/langgraph', '@langchain/core'],
  crewai: ['crewai', 'crewai-tools'],
  ag2: ['autogen', 'ag2', 'pyautogen', 'autogen-agentchat'],
  'google-adk': ['google-adk'],
  'openai-agents': ['openai-agents', '@openai/agents'],
  anthropic: ['anthropic', '@anthropic-ai/sdk'],
  strands: ['strands-agents'],
  bedrock: [],
  mcp: ['fastmcp', 'mcp', '@modelcontextprotocol/sdk'],
  deepagents: ['deepagents'],
};

const MAX_MANIFEST = 1 << 20;

export interface Detection {
  /** Every framework the manifests point at, in FRAMEWORKS order. */
  matches: Framework[];
  /** The dependency names found, lower case (for the Anthropic SDK's extra condition). */
  dependencies: Set<string>;
}

export function detectFrameworks(dir: string, hasAnthropicTools: () => boolean): Detection {
  const deps = dependencies(dir);
  const matches = FRAMEWORKS.filter((f) => {
    switch (f) {
      case 'anthropic':
        // The SDK alone is also what other frameworks call models with: it counts only with tool definitions.
        return DEPENDENCIES.anthropic.some((d) => deps.has(d)) && hasAnthropicTools();
      case 'bedrock':
        return deps.has('boto3') && bedrockActionGroups(dir).length > 0;
      case 'deepagents':
        return deps.has('deepagents') || ['deepagents.toml', 'agents.toml', 'AGENTS.md'].some((m) => existsSync(join(dir, m)));
      default:
        return DEPENDENCIES[f].some((d) => deps.has(d));
    }
  });
  return { matches, dependencies: deps };
}

/** Dependency names from requirements*.txt, pyproject.toml and package.json, normalised to lower case. */
function dependencies(dir: string): Set<string> {
  const found = new Set<string>();
  const add = (name: string) => found.add(name.trim().toLowerCase().replace(/_/g, '-'));
  for (const file of safeList(dir).filter((f) => /^requirements.*\.txt$/i.test(f))) {
    for (const line of read(join(dir, file)).split('\n')) {
      const m = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(line);
      if (m && !line.trimStart().startsWith('-')) add(m[1]!);
    }
  }
  // pyproject.toml: PEP 621 dependency strings and Poetry's `name = "…"` tables, read as text.
  const pyproject = read(join(dir, 'pyproject.toml'));
  for (const quoted of pyproject.matchAll(/["']([^"'\n]{1,200})["']/g)) {
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]*) ?(?:\[[^\]]*\])? ?(?:[<>=!~;@].*)?$/.exec(quoted[1]!.trim());
    if (m) add(m[1]!);
  }
  for (const m of pyproject.matchAll(/^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*=\s*(?:["'{])/gm)) add(m[1]!);
  const pkg = read(join(dir, 'package.json'));
  if (pkg) {
    try {
      const json = JSON.parse(pkg) as Record<string, unknown>;
      for (const field of ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies']) {
        const deps = json[field];
        if (deps && typeof deps === 'object') for (const name of Object.keys(deps)) add(name);
      }
    } catch {
      // Not JSON: no npm dependencies to read.
    }
  }
  return found;
}

/** JSON files beside the manifests that declare Bedrock action groups. */
export function bedrockActionGroups(dir: string): string[] {
  return safeList(dir)
    .filter((f) => f.endsWith('.json') && f !== 'package.json' && f !== 'package-lock.json')
    .filter((f) => /"(?:actionGroupName|action_group|actionGroup)"/.test(read(join(dir, f))))
    .map((f) => join(dir, f));
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * A file's text, or '' when it is missing, unreadable, too large to be a manifest, or not a regular
 * file: a project's `requirements.txt` may be a symlink to /dev/zero or a FIFO, which must neither
 * be read without end nor block. At most MAX_MANIFEST + 1 bytes are ever read, and only from a regular file.
 */
export function read(file: string): string {
  let fd: number | undefined;
  try {
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > MAX_MANIFEST) return '';
    // One byte more than it claims: a file grown past the limit since is refused.
    const buf = Buffer.allocUnsafe(st.size + 1);
    let n = 0;
    for (let got = -1; got !== 0 && n < buf.length; n += got) got = readSync(fd, buf, n, buf.length - n, null);
    return n > MAX_MANIFEST ? '' : buf.subarray(0, n).toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
