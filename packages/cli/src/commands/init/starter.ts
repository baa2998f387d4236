/**
 * The starter policy `faramesh init` writes: default deny, every discovered tool deferred to a
 * human, a small daily budget, and an empty egress block, in FPL or in its YAML or JSON form (the
 * same policy: a test compiles all three and compares).
 */
import { isRuleClause, quote } from '@faramesh/fpl';

export interface Starter {
  agent: string;
  tools: string[];
  /** The registry import: a comment until the registry's key is pinned, a TODO when the framework is unknown, or absent. */
  registry?: { path: string; mode: 'comment' | 'todo' };
  header: string[];
}

export type StarterFormat = 'fms' | 'yaml' | 'json';

export const STARTER_FILE: Record<StarterFormat, string> = {
  fms: 'governance.fms',
  yaml: 'governance.fms.yaml',
  json: 'governance.fms.json',
};

const RUNTIME = { mode: 'enforce', wal_dir: './faramesh-wal', backend: 'sqlite' } as const;
const DAILY_BUDGET_USD = 10;

export function starterText(s: Starter, format: StarterFormat): string {
  if (format === 'json') return `${JSON.stringify(starterDocument(s), null, 2)}\n`;
  return format === 'yaml' ? yaml(s) : fpl(s);
}

/** The YAML/JSON form: what `governance.fms.json` holds (YAML writes the same mapping). */
function starterDocument(s: Starter): Record<string, unknown> {
  return {
    runtime: { ...RUNTIME },
    agents: [
      {
        id: s.agent,
        default: 'deny',
        rules: s.tools.map((tool) => ({ effect: 'defer', tool })),
        budgets: { daily: { max: DAILY_BUDGET_USD, on_exceed: 'deny' } },
        egress: {},
      },
    ],
  };
}

const REGISTRY_ID = 'github.com/faramesh/faramesh-registry';

function registryLines(s: Starter, format: 'fms' | 'yaml', line: (path: string) => string): string[] {
  const r = s.registry;
  if (!r) return [];
  if (r.mode === 'todo') return [`# TODO: ${line(r.path)}`, ''];
  const trust =
    format === 'fms'
      ? `trust { key "${REGISTRY_ID}" ed25519:<public key> }`
      : `trust: { keys: [{ registry: "${REGISTRY_ID}", key: "ed25519:<public key>" }] }`;
  return [
    `# The framework profile, pinned. A registry import must be signed by a key pinned in`,
    `#   ${trust}`,
    `# Confirm the registry's key out of band, pin it, then uncomment the import.`,
    `# ${line(r.path)}`,
    '',
  ];
}

function fpl(s: Starter): string {
  const rules =
    s.tools.length > 0
      ? s.tools.map((t) => `    defer ${toolText(t)}`)
      : ['    # No tool registrations were found: add rules such as `permit search_docs`.'];
  return [
    ...s.header.map((h) => `# ${h}`),
    '',
    ...registryLines(s, 'fms', (p) => `import ${quote(p)}`),
    'runtime {',
    ...Object.entries(RUNTIME).map(([k, v]) => `  ${k.padEnd(7)} = ${quote(v)}`),
    '}',
    '',
    `agent ${quote(s.agent)} {`,
    '  default deny',
    '',
    '  rules {',
    ...rules,
    '  }',
    '',
    '  budget daily {',
    `    max       $${DAILY_BUDGET_USD}`,
    '    on_exceed deny',
    '  }',
    '',
    '  egress { }',
    '}',
    '',
  ].join('\n');
}

function yaml(s: Starter): string {
  const str = (v: string) => JSON.stringify(v); // a JSON string is a YAML double-quoted scalar
  return [
    ...s.header.map((h) => `# ${h}`),
    '',
    ...registryLines(s, 'yaml', (p) => `import: ${str(p)}`),
    'runtime:',
    ...Object.entries(RUNTIME).map(([k, v]) => `  ${k}: ${str(v)}`),
    '',
    'agents:',
    `  - id: ${str(s.agent)}`,
    '    default: deny',
    s.tools.length > 0 ? '    rules:' : '    rules: [] # no tool registrations were found',
    ...s.tools.map((t) => `      - { effect: defer, tool: ${str(t)} }`),
    '    budgets:',
    `      daily: { max: ${DAILY_BUDGET_USD}, on_exceed: deny }`,
    '    egress: {}',
    '',
  ].join('\n');
}

/**
 * A tool id as FPL writes it: bare when it is a plain pattern, else quoted. A word a rule reads as
 * its own keyword (`defer notify` is a rule missing its tool) is quoted too, as `faramesh fmt` does.
 */
function toolText(tool: string): string {
  return /^[A-Za-z_][\w.-]*(?:\/[\w.-]+)*$/.test(tool) && !isRuleClause(tool) ? tool : quote(tool);
}
