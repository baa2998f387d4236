/**
 * `faramesh init [--dir] [--offline] [--non-interactive] [--yaml|--json]`: write a starter
 * `governance.fms` for the project in `dir`. It detects the framework from the manifests, finds the
 * tools the sources register, and defers every one of them. It never overwrites a policy, never
 * starts the daemon, and writes only a file that `faramesh check` accepts.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { compile, Source, STACK_FILES } from '@faramesh/fpl';
import { isQuiet, makeOut, plural } from '../../output.js';
import { detectFrameworks, type Framework } from './detect.js';
import { discoverTools, hasInputSchemas } from './discover.js';
import { STARTER_FILE, starterText, type Starter, type StarterFormat } from './starter.js';

export interface InitOptions {
  dir: string;
  offline?: boolean;
  nonInteractive?: boolean;
  yaml?: boolean;
  json?: boolean;
  noColor?: boolean;
  /** Whether to ask when several frameworks match (default: on a terminal, unless --non-interactive). */
  interactive?: boolean;
}

/** Asks the operator to pick one of several frameworks; undefined for none of them, `cancel` when they quit (Ctrl-C, Ctrl-D). */
export type Chooser = (choices: readonly Framework[]) => Promise<Framework | undefined | 'cancel'>;

const REGISTRY = 'github.com/faramesh/faramesh-registry/frameworks';
const PROFILE_VERSION = '1.0.0';

export async function init(o: InitOptions, choose: Chooser = promptFramework): Promise<number> {
  const out = makeOut(o.noColor);
  if (o.yaml && o.json) {
    out.error(out.fail('--yaml and --json are exclusive: pick one form'));
    return 64;
  }
  const dir = resolve(o.dir);
  const existing = STACK_FILES.find((f) => existsSync(join(dir, f)));
  if (existing) {
    out.error(out.fail(`${join(dir, existing)} already exists: init never overwrites a policy (delete it, or pick another directory)`));
    return 1;
  }
  mkdirSync(dir, { recursive: true });

  const { matches } = detectFrameworks(dir, () => hasInputSchemas(dir));
  const interactive = o.interactive ?? (!o.nonInteractive && process.stdin.isTTY === true);
  const chosen = matches.length === 1 ? matches[0] : matches.length > 1 && interactive ? await choose(matches) : undefined;
  if (chosen === 'cancel') {
    out.error(out.fail('init cancelled: nothing written'));
    return 130;
  }
  const framework = chosen;
  const found = discoverTools(dir, framework ? [framework] : []);
  const format: StarterFormat = o.yaml ? 'yaml' : o.json ? 'json' : 'fms';
  const file = STARTER_FILE[format];
  const starter: Starter = {
    agent: agentName(dir),
    tools: found.tools,
    header: [
      `Written by faramesh init on ${new Date().toISOString().slice(0, 10)}: framework ${framework ?? 'unknown'}, ${plural(found.tools.length, 'tool')} found in ${plural(found.files, 'source file')}.`,
      'Every tool found defers to a human. Promote each to permit (or deny it) once you have reviewed it.',
    ],
  };
  if (!o.offline) starter.registry = registryImport(framework);

  const text = starterText(starter, format);
  const problems = compileProblems(text, file, dir);
  if (problems.length > 0) {
    out.error(out.fail(`the starter policy does not check (nothing written): ${problems.join('; ')}`));
    return 1;
  }
  try {
    writeFileSync(join(dir, file), text, { flag: 'wx' });
  } catch (e) {
    out.error(out.fail(`${join(dir, file)} could not be written: ${(e as Error).message}`));
    return 1;
  }

  if (framework !== undefined) out.done(`Framework detected: ${framework}`);
  // Warnings go where warnings go (stderr): never left out, never mixed with what --quiet keeps.
  else
    out.error(
      matches.length > 1
        ? `! Frameworks detected: ${matches.join(', ')}: pick one by hand (framework unknown)`
        : '! Framework not detected (unknown): add its registry import by hand',
    );
  const names = found.tools.length > 8 ? `${found.tools.slice(0, 8).join(', ')}, …` : found.tools.join(', ');
  out.done(`Tools discovered: ${found.tools.length}${found.tools.length > 0 ? ` (${names})` : ''}`);
  if (found.truncated) out.error(`! Stopped after ${found.files} source files: tools in the rest were not looked for`);
  if (starter.registry?.mode === 'comment' && !isQuiet())
    out.print(
      format === 'json'
        ? `→ No registry import written (JSON has no comments): add "import": "${starter.registry.path}" once the registry's key is pinned in trust`
        : `→ Registry import written as a comment: pin the registry's key in trust { }, then uncomment it`,
    );
  out.done(`${file} written`);
  // Guidance, not data: left out under --quiet, like the confirmations.
  if (!isQuiet())
    out.print(
      [
        '',
        'Next steps:',
        '  Check the policy:',
        '    faramesh check',
        '  Run your agent with governance:',
        '    faramesh dev',
        '  Review what your agent is doing:',
        '    faramesh approvals list',
        '  When ready for full enforcement:',
        '    faramesh apply',
      ].join('\n'),
    );
  return 0;
}

/**
 * The framework profile's import, pinned, as a comment: an import only resolves once the registry's
 * key is pinned in `trust { }`, and that key must be confirmed out of band, never taken on first use.
 * An unknown framework gets a TODO line to fill in.
 */
function registryImport(framework: Framework | undefined): Starter['registry'] {
  if (framework === undefined) return { path: `${REGISTRY}/<framework>@<version>`, mode: 'todo' };
  return { path: `${REGISTRY}/${framework}@${PROFILE_VERSION}`, mode: 'comment' };
}

function compileProblems(text: string, name: string, dir: string): string[] {
  const r = compile(new Source(name, text), {
    stackDir: dir,
    env: process.env,
    ...(process.env.FARAMESH_REGISTRY_ROOT ? { registryRoot: process.env.FARAMESH_REGISTRY_ROOT } : {}),
  });
  return r.diagnostics.items.filter((d) => d.severity === 'error').map((d) => d.message);
}

/** `<directory>-agent`, in the characters an agent id takes. */
function agentName(dir: string): string {
  const base = basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '');
  return `${base || 'my'}-agent`;
}

/**
 * On a terminal: a numbered list of the frameworks found; an empty answer or 0 picks none. Ctrl-C or
 * Ctrl-D (which readline turns into a rejected question) cancels.
 */
export async function promptFramework(
  choices: readonly Framework[],
  input: NodeJS.ReadableStream = process.stdin,
  output: NodeJS.WritableStream = process.stderr,
): Promise<Framework | undefined | 'cancel'> {
  const rl = createInterface({ input, output, terminal: input === process.stdin ? undefined : true });
  try {
    output.write(`More than one framework matches:\n${choices.map((c, i) => `  ${i + 1}. ${c}`).join('\n')}\n`);
    let answer: string;
    try {
      answer = (await rl.question(`Which one does this agent use? [1-${choices.length}, 0 for none] `)).trim();
    } catch {
      output.write('\n');
      return 'cancel';
    }
    const n = Number(answer);
    return Number.isInteger(n) && n >= 1 && n <= choices.length ? choices[n - 1] : undefined;
  } finally {
    rl.close();
  }
}
