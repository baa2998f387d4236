import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { discoverTools } from '../src/commands/init/discover.js';
import { detectFrameworks } from '../src/commands/init/detect.js';
import { init, promptFramework } from '../src/commands/init/index.js';
import { PassThrough } from 'node:stream';
import { BIN } from './daemon-helpers.js';

/** A project directory with these files (paths relative to it). */
function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'fm-init-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
};

const LANGGRAPH = {
  'requirements.txt': 'langgraph>=0.2\nlangchain-openai==0.1\nrequests\n',
  'src/agent.py': `from langchain_core.tools import tool, StructuredTool

@tool
def search_docs(query: str) -> str:
    """Search the docs."""
    return ""

@tool("send_email")
def mail(to: str) -> str:
    return ""

charge = StructuredTool.from_function(coroutine=_charge, name="charge_card", description="Charge")
`,
  'node_modules/x/index.py': '@tool\ndef not_ours(): ...\n',
};

test('init: a LangGraph project gets a policy deferring each tool it registers, which check accepts', () => {
  const dir = project(LANGGRAPH);
  try {
    const r = cli('init', '--dir', dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /✓ Framework detected: langgraph/);
    assert.match(r.stdout, /✓ Tools discovered: 3 \(search_docs, send_email, charge_card\)/);
    assert.match(r.stdout, /✓ governance\.fms written\n\nNext steps:/);
    const text = readFileSync(join(dir, 'governance.fms'), 'utf8');
    assert.match(
      text,
      /^# import "github\.com\/faramesh\/faramesh-registry\/frameworks\/langgraph@1\.0\.0"$/m,
      'pinned, commented until trusted',
    );
    assert.match(text, / {2}default deny\n/);
    assert.match(text, /rules \{\n {4}defer search_docs\n {4}defer send_email\n {4}defer charge_card\n {2}\}/);
    assert.match(text, /budget daily \{\n {4}max {7}\$10\n {4}on_exceed deny/);
    assert.doesNotMatch(text, /not_ours/, 'dependencies are not scanned');
    assert.equal(cli('check', '--dir', dir).code, 0);
    const ir = JSON.parse(cli('compile', '--dir', dir).stdout) as {
      policy: { agents: { id: string; rules: { effect: string; tool: string }[] }[] };
    };
    assert.equal(ir.policy.agents[0]!.id, `${dir.split('/').pop()!.toLowerCase()}-agent`);
    assert.deepEqual(
      ir.policy.agents[0]!.rules.map((x) => `${x.effect} ${x.tool}`),
      ['defer search_docs', 'defer send_email', 'defer charge_card'],
    );

    // Never overwrites, in any form.
    const again = cli('init', '--dir', dir, '--yaml');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists: init never overwrites a policy/);
    assert.equal(readFileSync(join(dir, 'governance.fms'), 'utf8'), text);
    assert.equal(existsSync(join(dir, 'governance.fms.yaml')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('init: tools named like a rule keyword (notify, reason, method, when) are written quoted, and the policy checks', () => {
  const dir = project({
    'requirements.txt': 'langgraph>=0.2\n',
    'src/agent.py': ['notify', 'reason', 'method', 'when', 'search_docs']
      .map((name) => `@tool\ndef ${name}(x: str) -> str:\n    """${name}."""\n    return ""\n`)
      .join('\n'),
  });
  const r = cli('init', '--dir', dir, '--non-interactive');
  assert.equal(r.code, 0, r.stderr);
  const text = readFileSync(join(dir, 'governance.fms'), 'utf8');
  for (const name of ['notify', 'reason', 'method', 'when']) assert.match(text, new RegExp(`defer "${name}"`));
  assert.match(text, /defer search_docs/);
  const check = cli('check', '--dir', dir);
  assert.equal(check.code, 0, check.stderr);
});

test('init --yaml and --json write the same policy as the FPL form; --offline leaves out the import', () => {
  const files = {
    'package.json': JSON.stringify({ dependencies: { '@modelcontextprotocol/sdk': '^1.0.0' } }),
    'server.ts': `server.tool("get_weather", { city: z.string() }, handler);\nserver.registerTool('list_files', {}, h);\n`,
  };
  const dirs = ['fms', 'yaml', 'json'].map(() => project(files));
  try {
    const forms = [[], ['--yaml'], ['--json']];
    const compiled = dirs.map((dir, i) => {
      const r = cli('init', '--dir', dir, ...forms[i]!);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Framework detected: mcp/);
      assert.match(r.stdout, /Tools discovered: 2 \(get_weather, list_files\)/);
      const c = cli('compile', '--dir', dir);
      assert.equal(c.code, 0, c.stderr);
      return JSON.parse(c.stdout) as { policy: { agents: { id: string }[] } };
    });
    assert.ok(existsSync(join(dirs[1]!, 'governance.fms.yaml')) && existsSync(join(dirs[2]!, 'governance.fms.json')));
    // The agent id follows the directory name; everything else is the same policy.
    const same = compiled.map((c) =>
      JSON.stringify({ ...c.policy, agents: c.policy.agents.map((a) => ({ ...a, id: 'x', ref: '' })) }, (k, v: unknown) =>
        k === 'ref' ? undefined : v,
      ),
    );
    assert.equal(same[1], same[0]);
    assert.equal(same[2], same[0]);

    const offline = project(files);
    assert.equal(cli('init', '--dir', offline, '--offline').code, 0);
    assert.doesNotMatch(readFileSync(join(offline, 'governance.fms'), 'utf8'), /import/);
    rmSync(offline, { recursive: true, force: true });
    assert.equal(cli('init', '--dir', dirs[0]!, '--yaml', '--json').code, 64);
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
});

test('init: several frameworks ask which (or leave it unknown with --non-interactive); an empty project still checks', async () => {
  const files = {
    'pyproject.toml': '[project]\nname = "crew-and-agents"\ndependencies = ["crewai>=0.5", "openai-agents[voice] ==0.1"]\n',
    'tools.py': `from agents import function_tool\n\n@function_tool\nasync def lookup_order(order_id: str) -> str:\n    ...\n\nclass SearchTool(BaseTool):\n    name: str = "Search the web"\n`,
  };
  const dir = project(files);
  const empty = project({});
  try {
    assert.deepEqual(detectFrameworks(dir, () => false).matches, ['crewai', 'openai-agents']);
    const r = cli('init', '--dir', dir, '--non-interactive');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /! Frameworks detected: crewai, openai-agents: pick one by hand \(framework unknown\)/);
    const text = readFileSync(join(dir, 'governance.fms'), 'utf8');
    assert.match(text, /^# TODO: import "github\.com\/faramesh\/faramesh-registry\/frameworks\/<framework>@<version>"$/m);
    assert.match(text, /defer lookup_order\n {4}defer search_the_web\n/, 'an unknown framework is scanned with every pattern');
    rmSync(join(dir, 'governance.fms'));

    // On a terminal the operator picks: the chosen framework's patterns alone apply.
    let offered: readonly string[] = [];
    const code = await init({ dir, interactive: true, noColor: true }, async (choices) => {
      offered = choices;
      return 'openai-agents';
    });
    assert.equal(code, 0);
    assert.deepEqual(offered, ['crewai', 'openai-agents']);
    assert.match(
      readFileSync(join(dir, 'governance.fms'), 'utf8'),
      /frameworks\/openai-agents@1\.0\.0"\n[\s\S]*rules \{\n {4}defer lookup_order\n {2}\}/,
    );

    const e = cli('init', '--dir', empty);
    assert.equal(e.code, 0, e.stderr);
    assert.match(e.stderr, /Framework not detected \(unknown\)/);
    assert.match(e.stdout, /Tools discovered: 0\n/);
    assert.equal(cli('check', '--dir', empty).code, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(empty, { recursive: true, force: true });
  }
});

test('tool discovery: each framework registration form the docs list', () => {
  const cases: [string, Record<string, string>, string[]][] = [
    [
      'ag2',
      {
        'a.py':
          'register_function(get_price, caller=a, executor=b)\n@user.register_for_execution()\n@bot.register_for_llm(name="add_numbers", description="x")\ndef add(a, b): ...\n',
      },
      ['add_numbers', 'get_price'],
    ],
    [
      'google-adk',
      { 'a.py': 'weather = FunctionTool(func=get_weather)\nagent = Agent(tools=[get_weather, search, FunctionTool(x)])\n' },
      ['get_weather', 'search', 'x'],
    ],
    [
      'mcp',
      { 'server.py': '@mcp.tool()\ndef read_file(path: str): ...\n\n@mcp.tool(name="write")\ndef w(): ...\nmcp.add_tool(delete_file)\n' },
      ['read_file', 'write', 'delete_file'],
    ],
    ['anthropic', { 'a.ts': 'const tools = [{ name: "get_stock", description: "Price", input_schema: {} }];\n' }, ['get_stock']],
    [
      'bedrock',
      {
        'group.json': JSON.stringify({
          actionGroupName: 'orders',
          functionSchema: { functions: [{ name: 'cancel_order' }, { name: 'refund' }] },
        }),
      },
      ['cancel_order', 'refund'],
    ],
    ['deepagents', { 'skills/triage/SKILL.md': '# Triage\n', 'skills/notes/README.md': '' }, ['triage']],
  ];
  for (const [framework, files, expected] of cases) {
    const dir = project(files);
    try {
      assert.deepEqual(discoverTools(dir, [framework as never]).tools.sort(), [...expected].sort(), framework);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const bedrock = project({ 'requirements.txt': 'boto3\n', 'group.json': '{"actionGroupName": "x"}' });
  assert.deepEqual(detectFrameworks(bedrock, () => false).matches, ['bedrock']);
  rmSync(bedrock, { recursive: true, force: true });
});

test('init: a manifest that is a FIFO or a device (a hostile checkout) is not read: init neither hangs nor reads without end', () => {
  const dir = project({ 'agent.py': '@tool\ndef search_docs(q): ...\n' });
  try {
    assert.equal(spawnSync('mkfifo', [join(dir, 'package.json')]).status, 0);
    symlinkSync('/dev/zero', join(dir, 'requirements.txt'));
    symlinkSync('/dev/zero', join(dir, 'group.json'));
    const r = spawnSync(process.execPath, [BIN, 'init', '--dir', dir, '--non-interactive'], { encoding: 'utf8', timeout: 15_000 });
    assert.equal(r.status, 0, `${r.error?.message ?? ''} ${r.stderr}`);
    assert.match(readFileSync(join(dir, 'governance.fms'), 'utf8'), /defer search_docs/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('init: a tool name without spaces is written as the framework sends it (leading underscores, colons kept), and checks', () => {
  const dir = project({
    'requirements.txt': 'langchain\nfastmcp\n',
    'agent.py': '@tool\ndef _lookup_order(order_id: str) -> str:\n    """x"""\n\n@tool\ndef get__data(x): ...\n',
    'server.ts': 'server.tool("db:query", async () => {});\nserver.tool("Search the web", async () => {});\n',
  });
  try {
    assert.deepEqual(discoverTools(dir, []).tools.sort(), ['_lookup_order', 'db:query', 'get__data', 'search_the_web']);
    const r = cli('init', '--dir', dir, '--non-interactive');
    assert.equal(r.code, 0, r.stderr);
    const text = readFileSync(join(dir, 'governance.fms'), 'utf8');
    assert.match(text, /^ {4}defer _lookup_order$/m);
    assert.match(text, /^ {4}defer "db:query"$/m);
    assert.equal(cli('check', '--dir', dir).code, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('init: Ctrl-C or Ctrl-D at the framework prompt cancels (exit 130, nothing written), never a stack trace', async () => {
  for (const key of ['\x03', '\x04']) {
    const input = new PassThrough();
    const output = new PassThrough();
    output.resume();
    const answer = promptFramework(['langgraph', 'crewai'], input, output);
    input.write(key);
    assert.equal(await answer, 'cancel');
  }
  const dir = project({ 'requirements.txt': 'langchain\ncrewai\n' });
  try {
    assert.equal(await init({ dir, interactive: true, noColor: true }, async () => 'cancel'), 130);
    assert.equal(existsSync(join(dir, 'governance.fms')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
