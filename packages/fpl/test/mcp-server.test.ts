import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { compile } from '../src/compile.js';
import type { McpServerIR as FromIndex, PolicyIR } from '../src/index.js';
import { stripPositions, type McpServerIR } from '../src/ir.js';
import { mergeImported } from '../src/merge.js';
import type { McpServerIR as FromRuntime } from '../src/runtime.js';
import { Source } from '../src/syntax/source.js';
import { fmt } from './support/format.js';
import { checkText } from './support/policy.js';
import { REGISTRY, TestRegistry } from './support/registry.js';

const STDIO = `mcp_server "files" {
  command = "npx"
  args    = ["-y", "@modelcontextprotocol/server-filesystem", "/tmp/work"]
  env     = { LOG_LEVEL = "debug", TOKEN = env("FILES_TOKEN") }
  cwd     = "./work"
}
`;

const REMOTE = `mcp_server "github" {
  url       = "https://mcp.example.com/mcp"
  headers   = { Authorization = env("GH_MCP_AUTH") }
  transport = "sse"
}
`;

function servers(text: string, name = 'governance.fms', env: Record<string, string> = {}): McpServerIR[] {
  const r = checkText(text, name, { env });
  assert.deepEqual(
    r.errors.map((e) => `${e.source.lineOf(e.span.start)}: ${e.message}`),
    [],
    'compiles',
  );
  return r.ir!.mcp_servers;
}

describe('mcp_server lowers to McpServerIR', () => {
  test('the stdio form', () => {
    assert.deepEqual(servers(STDIO), [
      {
        name: 'files',
        command: 'npx',
        args: ['-y', '@modelcontextprotocol/server-filesystem', '/tmp/work'],
        env: { LOG_LEVEL: 'debug', TOKEN: { $env: 'FILES_TOKEN' } },
        cwd: './work',
        headers: {},
        ref: 'governance.fms:1',
      },
    ]);
  });

  test('the remote form', () => {
    assert.deepEqual(servers(REMOTE), [
      {
        name: 'github',
        args: [],
        env: {},
        url: 'https://mcp.example.com/mcp',
        headers: { Authorization: { $env: 'GH_MCP_AUTH' } },
        transport: 'sse',
        ref: 'governance.fms:1',
      },
    ]);
  });

  test('the smallest forms: optional fields stay absent, lists and maps empty', () => {
    const ir = servers('mcp_server "a" {\n  command = "srv"\n}\nmcp_server b {\n  url = "http://127.0.0.1:9000/mcp"\n}\n');
    assert.deepEqual(ir, [
      { name: 'a', command: 'srv', args: [], env: {}, headers: {}, ref: 'governance.fms:1' },
      { name: 'b', args: [], env: {}, url: 'http://127.0.0.1:9000/mcp', headers: {}, ref: 'governance.fms:4' },
    ]);
    assert.ok(!('transport' in ir[1]!), 'no default is written into the IR');
  });

  test('every server is kept, in source order, between other blocks', () => {
    const text = `runtime {\n  mcp_proxy_port = 7311\n}\n${REMOTE}agent "bot" {\n  default deny\n}\n${STDIO}`;
    const ir = servers(text);
    assert.deepEqual(
      ir.map((s) => [s.name, s.ref]),
      [
        ['github', 'governance.fms:4'],
        ['files', 'governance.fms:12'],
      ],
    );
  });

  test('a policy without the block has mcp_servers: []', () => {
    const r = checkText('agent "bot" {\n  default deny\n}\n');
    assert.deepEqual(r.ir!.mcp_servers, []);
    assert.deepEqual(checkText('').ir!.mcp_servers, []);
  });

  test('names may use letters, digits, _, - and .', () => {
    assert.deepEqual(
      servers('mcp_server "Fs_2.v-1" {\n  command = "x"\n}\n').map((s) => s.name),
      ['Fs_2.v-1'],
    );
  });

  test('env and header keys that are not identifiers are kept as written', () => {
    const ir = servers(
      'mcp_server "h" {\n  url = "https://x.example/mcp"\n  headers = { X-Api-Key = "k", "X.Odd!" = "v", Accept = text/event-stream }\n}\n',
    );
    assert.deepEqual(ir[0]!.headers, { 'X-Api-Key': 'k', 'X.Odd!': 'v', Accept: 'text/event-stream' });
  });

  test('the policy version changes with any field', () => {
    const base = checkText(STDIO).policyVersion;
    assert.ok(base);
    assert.equal(checkText(STDIO).policyVersion, base, 'deterministic');
    for (const changed of [
      STDIO.replace('"/tmp/work"', '"/tmp/other"'),
      STDIO.replace('"debug"', '"info"'),
      STDIO.replace('env("FILES_TOKEN")', 'env("OTHER_TOKEN")'),
      STDIO.replace('"./work"', '"./w"'),
      STDIO.replace('"files"', '"files2"'),
    ]) {
      assert.notEqual(checkText(changed).policyVersion, base, changed);
    }
  });

  test('the IR type is exported from both entry points', () => {
    const value: McpServerIR = servers(REMOTE)[0]!;
    const viaIndex: FromIndex = value;
    const viaRuntime: FromRuntime = viaIndex;
    const policy: Pick<PolicyIR, 'mcp_servers'> = { mcp_servers: [viaRuntime] };
    assert.equal(policy.mcp_servers.length, 1);
  });
});

describe('env() in mcp_server stays unresolved', () => {
  test('even when the variable is set, the IR holds { $env } and never the secret', () => {
    const env = { FILES_TOKEN: 'sekrit-files-token', GH_MCP_AUTH: 'Bearer sekrit-gh' };
    const r = compile(new Source('governance.fms', STDIO + REMOTE), { env });
    assert.equal(r.diagnostics.errorCount, 0);
    const json = JSON.stringify(r.ir);
    assert.ok(!json.includes('sekrit'), json);
    assert.deepEqual(r.ir!.mcp_servers[0]!.env.TOKEN, { $env: 'FILES_TOKEN' });
    assert.deepEqual(r.ir!.mcp_servers[1]!.headers.Authorization, { $env: 'GH_MCP_AUTH' });
    // The version does not depend on the secret's value either.
    const other = compile(new Source('governance.fms', STDIO + REMOTE), { env: { FILES_TOKEN: 'x', GH_MCP_AUTH: 'y' } });
    assert.equal(other.policyVersion, r.policyVersion);
  });

  test('--strict-env: an unset variable is an error at the env() call', () => {
    const r = checkText(STDIO, 'governance.fms', { strictEnv: true });
    assert.deepEqual(r.summary, ['unset-env@4']);
    assert.match(r.errors[0]!.message, /env\("FILES_TOKEN"\) is unset/);
    const ok = checkText(STDIO, 'governance.fms', { strictEnv: true, env: { FILES_TOKEN: 't' } });
    assert.deepEqual(ok.summary, []);
    assert.deepEqual(ok.ir!.mcp_servers[0]!.env.TOKEN, { $env: 'FILES_TOKEN' });
  });
});

/** [title, policy, expected `code@line` diagnostics, message of the first error, its hint] */
type Case = [string, string, string[], RegExp, RegExp?];

const block = (body: string, name = '"s"') => `mcp_server ${name} {\n${body}\n}\n`;

const errors: Case[] = [
  ['name is required', 'mcp_server {\n  command = "x"\n}\n', ['missing-label@1'], /'mcp_server' needs a name: mcp_server "<name>"/],
  ['name without /', block('  command = "x"', '"gh/issues"'), ['invalid-name@1'], /name "gh\/issues" contains '\/'/, /files\/<tool>/],
  ['name not empty', block('  command = "x"', '""'), ['invalid-name@1'], /name "" is empty/],
  ['name not ..', block('  command = "x"', '".."'), ['invalid-name@1'], /cannot be '\.\.'/],
  ['name characters', block('  command = "x"', '"my server"'), ['invalid-name@1'], /only letters, digits, _, - and \./],
  ['two labels', block('  command = "x"', '"a" "b"'), ['unexpected-label@1'], /takes one name, got 2/],
  [
    'names are unique',
    `${block('  command = "x"', '"a"')}${block('  url = "https://x.example"', '"a"')}`,
    ['duplicate-block@4'],
    /duplicate mcp_server "a": first declared at line 1/,
  ],
  ['neither command nor url', block('  args = ["x"]'), ['missing-field@1'], /needs command = "…" .* or url = "https:\/\/…"/],
  ['both command and url', block('  command = "x"\n  url = "https://x.example"'), ['conflicting-fields@3'], /sets both command and url/],
  [
    'args only with command',
    block('  url = "https://x.example"\n  args = ["a"]'),
    ['conflicting-fields@3'],
    /'args' applies only to a spawned server/,
  ],
  ['env only with command', block('  url = "https://x.example"\n  env = { A = "b" }'), ['conflicting-fields@3'], /'env' applies only/],
  ['cwd only with command', block('  url = "https://x.example"\n  cwd = "."'), ['conflicting-fields@3'], /'cwd' applies only/],
  [
    'headers only with url',
    block('  command = "x"\n  headers = { A = "b" }'),
    ['conflicting-fields@3'],
    /'headers' applies only to a remote server/,
  ],
  [
    'transport only with url',
    block('  command = "x"\n  transport = "sse"'),
    ['conflicting-fields@3'],
    /'transport' applies only to a remote server/,
  ],
  [
    'url must be http(s)',
    block('  url = "ftp://files.example/x"'),
    ['invalid-value@2'],
    /url must be an http:\/\/ or https:\/\/ URL, got "ftp:/,
  ],
  ['url websocket', block('  url = "wss://x.example/mcp"'), ['invalid-value@2'], /http:\/\/ or https:\/\//, /not WebSocket/],
  ['url must be a URL', block('  url = "mcp.example.com"'), ['invalid-value@2'], /'url' expects a URL/],
  [
    'url without credentials',
    block('  url = "https://me:pw@x.example/mcp"'),
    ['invalid-value@2'],
    /url carries credentials/,
    /headers = \{ Authorization = env/,
  ],
  ['transport values', block('  url = "https://x.example"\n  transport = "websocket"'), ['invalid-value@3'], /one of streamable-http, sse/],
  [
    'transport did-you-mean',
    block('  url = "https://x.example"\n  transport = "SSE"'),
    ['invalid-value@3'],
    /one of/,
    /did you mean 'sse'/,
  ],
  [
    'unknown field',
    block('  command = "x"\n  argz = ["a"]'),
    ['unknown-field@3'],
    /mcp_server "s": unknown field 'argz'/,
    /did you mean 'args'/,
  ],
  [
    'unknown field synonym',
    block('  command = "x"\n  environment = { A = "b" }'),
    ['unknown-field@3'],
    /unknown field 'environment'/,
    /did you mean 'env'/,
  ],
  ['cmd is not cwd', block('  url = "https://x.example"\n  cmd = "x"'), ['unknown-field@3'], /'cmd'/, /did you mean 'command'/],
  ['nested block', block('  command = "x"\n  env {\n    A = "b"\n  }'), ['unknown-block@3'], /'env' is a field/, /write env = …/],
  ['duplicate field', block('  command = "x"\n  command = "y"'), ['duplicate-field@3'], /'command' is set twice/],
  ['command is a string', block('  command = ["npx", "-y"]'), ['invalid-value@2'], /'command' expects a string, got a list/],
  [
    'command not from env',
    block('  command = env("CMD")'),
    ['invalid-value@2'],
    /'command' must be written in the policy: env\(\) is not accepted/,
  ],
  ['url not from env', block('  url = env("URL")'), ['invalid-value@2'], /'url' must be written in the policy/],
  ['cwd not from env', block('  command = "x"\n  cwd = env("DIR")'), ['invalid-value@3'], /'cwd' must be written in the policy/],
  ['command not empty', block('  command = ""'), ['invalid-value@2'], /command is empty/],
  ['cwd not empty', block('  command = "x"\n  cwd = ""'), ['invalid-value@3'], /cwd is empty/],
  ['args is a list of strings', block('  command = "x"\n  args = "-y srv"'), ['invalid-value@3'], /'args' expects a list of strings/],
  ['args hold strings', block('  command = "x"\n  args = ["-p", 8080]'), ['invalid-value@3'], /got number 8080 in it/],
  ['args not from env', block('  command = "x"\n  args = [env("A")]'), ['invalid-value@3'], /got env\("A"\) in it/],
  [
    'env is a map',
    block('  command = "x"\n  env = "A=b"'),
    ['invalid-value@3'],
    /'env' expects a map of strings/,
    /env = \{ KEY = "value" \}/,
  ],
  ['env keys', block('  command = "x"\n  env = { "1A" = "b" }'), ['invalid-value@3'], /'env': '1A' is not an environment variable name/],
  [
    'env key with dash',
    block('  command = "x"\n  env = { LOG-LEVEL = "b" }'),
    ['invalid-value@3'],
    /'LOG-LEVEL' is not an environment variable name/,
  ],
  [
    'env values are strings',
    block('  command = "x"\n  env = { PORT = 8080 }'),
    ['invalid-value@3'],
    /value of 'PORT' must be a string or env\("NAME"\), got number 8080/,
    /quote it: PORT = "8080"/,
  ],
  ['env values not maps', block('  command = "x"\n  env = { A = { B = "c" } }'), ['invalid-value@3'], /got a map/],
  ['env values not NUL', block('  command = "x"\n  env = { A = "a\\u0000b" }'), ['invalid-value@3'], /NUL/],
  [
    'env key twice',
    block('  command = "x"\n  env = {\n    A = "1"\n    A = "2"\n  }'),
    ['duplicate-field@5'],
    /'env' sets 'A' twice \(first at line 4\)/,
  ],
  [
    'env() name',
    block('  command = "x"\n  env = { A = env("NOT A NAME") }'),
    ['invalid-env@3'],
    /'NOT A NAME' is not an environment variable name/,
  ],
  [
    'headers is a map',
    block('  url = "https://x.example"\n  headers = ["A: b"]'),
    ['invalid-value@3'],
    /'headers' expects a map of strings, got a list/,
  ],
  [
    'header names',
    block('  url = "https://x.example"\n  headers = { "X Key" = "b" }'),
    ['invalid-value@3'],
    /'headers': 'X Key' is not an HTTP header name/,
  ],
  [
    'header values are strings',
    block('  url = "https://x.example"\n  headers = { X-Retries = true }'),
    ['invalid-value@3'],
    /value of 'X-Retries' must be a string/,
  ],
  [
    'header values one line',
    block('  url = "https://x.example"\n  headers = { A = "b\\r\\nX-Evil: 1" }'),
    ['invalid-value@3'],
    /line break or control character/,
  ],
  [
    'header names ignore case',
    block('  url = "https://x.example"\n  headers = { Authorization = "a", authorization = "b" }'),
    ['duplicate-field@3'],
    /'headers' sets 'authorization' twice/,
  ],
  [
    'not inside an agent',
    'agent "a" {\n  default deny\n  mcp_server "s" {\n    command = "x"\n  }\n}\n',
    ['unknown-block@3'],
    /agent "a": unknown block 'mcp_server'/,
  ],
  [
    'misspelt block',
    'mcp_servers "s" {\n  command = "x"\n}\n',
    ['unknown-block@1'],
    /unknown top-level block 'mcp_servers'/,
    /did you mean 'mcp_server'/,
  ],
];

describe('mcp_server errors', () => {
  for (const [title, text, expected, message, hint] of errors) {
    test(title, () => {
      const r = checkText(text);
      assert.deepEqual(r.summary, expected, `diagnostics of:\n${text}`);
      assert.match(r.errors[0]!.message, message);
      if (hint) assert.match(r.errors[0]!.hint ?? '', hint);
      assert.equal(r.ir, undefined, 'no IR when there are errors');
    });
  }

  test('several problems are all reported, each at its line', () => {
    const r = checkText(block('  command = "x"\n  url = "ftp://x"\n  transport = "ws"\n  argv = []', '"a/b"'));
    assert.deepEqual(r.summary, ['invalid-name@1', 'conflicting-fields@3', 'invalid-value@3', 'invalid-value@4', 'unknown-field@5']);
  });

  test('a command with spaces and no args is a warning, not an error', () => {
    const r = checkText(block('  command = "npx -y server"'));
    assert.deepEqual(r.summary, ['command-with-spaces@2']);
    assert.match(r.warnings[0]!.message, /run as one program name, not through a shell/);
    assert.match(r.warnings[0]!.hint ?? '', /args = \[/);
    assert.equal(r.ir!.mcp_servers[0]!.command, 'npx -y server');
    assert.deepEqual(checkText(block('  command = "/opt/My Tools/srv"\n  args = []')).summary, []);
  });
});

describe('fmt round-trips mcp_server', () => {
  const inputs: [string, string][] = [
    ['stdio', STDIO],
    ['remote', REMOTE],
    [
      'unusual keys, bare words, comments, a multi-line map',
      '# upstreams\nmcp_server   h   {   # remote\n  url = "https://x.example/mcp"\n  headers = {\n    X-Api-Key = env("K")   # secret\n    "X.Odd!" = v\n  }\n\n\n  transport="streamable-http"\n}\nmcp_server "e" { command = "x" env = { __proto__ = "p", A_1 = \'q\' } }\n',
    ],
  ];
  for (const [title, text] of inputs) {
    test(title, () => {
      const once = fmt(text);
      assert.equal(fmt(once), once, 'idempotent');
      const before = checkText(text);
      const after = checkText(once);
      assert.deepEqual(before.errors, []);
      assert.deepEqual(after.errors, []);
      assert.deepEqual(stripPositions(after.ir), stripPositions(before.ir), 'same IR');
      assert.equal(after.ir!.mcp_servers.length, before.ir!.mcp_servers.length);
    });
  }

  test('golden output', () => {
    assert.equal(
      fmt('mcp_server files {\ncommand="npx"\n    args=["-y","srv"]\nenv={TOKEN=env(\'T\'),"A"="b"}\n}\n'),
      'mcp_server files {\n  command = "npx"\n  args    = ["-y", "srv"]\n  env = { TOKEN = env("T"), A = "b" }\n}\n',
    );
    assert.equal(
      fmt('mcp_server "gh" { url = "https://x.example" headers = { "X.Y" = "1" } transport = sse }\n'),
      'mcp_server "gh" {\n  url = "https://x.example"\n  headers = { "X.Y" = "1" }\n  transport = sse\n}\n',
    );
  });
});

test('the example of docs/fpl.md compiles to the documented shape and is in canonical layout', () => {
  const doc = readFileSync(new URL('../../../../docs/fpl.md', import.meta.url), 'utf8');
  const example = /```hcl\n(mcp_server[^`]*)```/.exec(doc)?.[1];
  assert.ok(example, 'docs/fpl.md has an mcp_server example');
  const ir = servers(example);
  assert.deepEqual(
    ir.map((s) => [s.name, s.command ?? s.url, s.transport ?? '(default)']),
    [
      ['files', 'npx', '(default)'],
      ['github', 'https://mcp.example.com/mcp', 'sse'],
    ],
  );
  assert.equal(fmt(example), example, 'the docs show the canonical layout');
});

describe('YAML and JSON forms', () => {
  test('mcp_server|mcp_servers compile to the same IR as the FPL', () => {
    const yaml = `mcp_servers:
  files:
    command: npx
    args: ["-y", "@modelcontextprotocol/server-filesystem", /tmp/work]
    env: { LOG_LEVEL: debug, TOKEN: 'env("FILES_TOKEN")' }
    cwd: ./work
mcp_server:
  - name: github
    url: https://mcp.example.com/mcp
    headers:
      Authorization: { env: GH_MCP_AUTH }
    transport: sse
`;
    const json = JSON.stringify({
      mcp_servers: [
        {
          name: 'files',
          command: 'npx',
          args: ['-y', '@modelcontextprotocol/server-filesystem', '/tmp/work'],
          env: { LOG_LEVEL: 'debug', TOKEN: { env: 'FILES_TOKEN' } },
          cwd: './work',
        },
        { name: 'github', url: 'https://mcp.example.com/mcp', headers: { Authorization: 'env("GH_MCP_AUTH")' }, transport: 'sse' },
      ],
    });
    const fpl = stripPositions(servers(STDIO + REMOTE));
    assert.deepEqual(stripPositions(servers(yaml, 'governance.fms.yaml')), fpl);
    assert.deepEqual(stripPositions(servers(json, 'governance.fms.json')), fpl);
  });

  test('errors point into the YAML', () => {
    const r = checkText('mcp_servers:\n  files:\n    command: npx\n    url: https://x.example\n', 'governance.fms.yaml');
    assert.deepEqual(r.summary, ['conflicting-fields@4']);
  });
});

describe("imports never add MCP servers: a server runs with the daemon's rights and secrets", () => {
  const registry = new TestRegistry();
  after(() => registry.cleanup());
  registry.add(
    'frameworks/mcp-tools/1.0.0',
    'mcp_server "files" {\n  command = "imported-files"\n}\n\nmcp_server "search" {\n  url = "https://search.example/mcp"\n  headers = { Authorization = env("SEARCH_AUTH") }\n}\n',
  );
  const path = `${REGISTRY}/frameworks/mcp-tools@1.0.0`;

  test("an imported server is ignored with a warning (a command of the pack's, a secret sent to its host); the local ones stay", () => {
    const text = `import "${path}"\n${registry.trust()}mcp_server "files" {\n  url = "https://files.example/mcp"\n}\n`;
    const r = compile(new Source('governance.fms', text), { env: {}, registryRoot: registry.root, stackDir: registry.stackDir });
    assert.deepEqual(
      r.ir!.mcp_servers.map((s) => [s.name, s.command ?? s.url, s.ref]),
      [['files', 'https://files.example/mcp', 'governance.fms:5']],
    );
    assert.deepEqual(
      r.diagnostics.items.map((d) => [d.code, d.message]),
      ['files', 'search'].map((name) => [
        'import-ignored',
        `${path}: mcp_server "${name}" (declare it locally: it would run with the daemon's rights and secrets) from an import is ignored`,
      ]),
    );
  });

  test('mergeImported directly: providers, identities and MCP servers are reported, never added', () => {
    const local = checkText('mcp_server "a" {\n  command = "local-a"\n}\n').ir!;
    const imported = checkText('mcp_server "b" {\n  command = "b"\n}\nmcp_server "a" {\n  command = "imported-a"\n}\n').ir!;
    imported.providers.push({ name: 'helper', type: 'vault', ref: 'x:1' } as (typeof imported.providers)[number]);
    imported.identities.push({ name: 'idp', type: 'oidc', ref: 'x:2' } as (typeof imported.identities)[number]);
    const ignored: string[] = [];
    const merged = mergeImported(local, imported, (w) => ignored.push(w));
    assert.deepEqual(
      merged.mcp_servers.map((s) => [s.name, s.command]),
      [['a', 'local-a']],
    );
    assert.deepEqual([merged.providers, merged.identities], [[], []]);
    assert.deepEqual(
      ignored.map((w) => w.split(' (')[0]),
      ['provider "helper"', 'identity "idp"', 'mcp_server "b"', 'mcp_server "a"'],
    );
  });
});

describe('a deny or defer that names an MCP tool bare', () => {
  const stack = (agent: string, runtime = 'runtime {\n  mcp_proxy_port = 8081\n}\n') => `${runtime}${STDIO}agent "coder" {\n${agent}\n}\n`;
  const bare = (text: string) => checkText(text).warnings.filter((w) => w.code === 'mcp-bare-tool');

  test('is a warning where the proxy would permit the call it was written to stop', () => {
    const r = checkText(stack('  default permit\n  rules {\n    deny shell_exec\n    defer write_file\n    deny files/move_file\n  }'));
    const warned = r.warnings.filter((w) => w.code === 'mcp-bare-tool');
    assert.deepEqual(
      warned.map((w) => w.source.lineOf(w.span.start)),
      [13, 14],
    );
    assert.match(warned[0]!.message, /deny shell_exec names no MCP server.*files\/shell_exec/);
    assert.match(warned[0]!.hint ?? '', /deny files\/shell_exec/);
    // A wider permit of the server's tools lets it through as surely as a permitting default.
    assert.equal(bare(stack('  rules {\n    deny shell_exec\n    permit files/*\n  }')).length, 1);
  });

  test('is not said where nothing would permit the proxied call, or no proxy serves the agent', () => {
    assert.equal(bare(stack('  default deny\n  rules {\n    deny shell_exec\n    permit files/read_text_file\n  }')).length, 0);
    assert.equal(bare(stack('  default permit\n  rules {\n    deny shell_exec\n  }', '')).length, 0);
    assert.equal(bare(stack('  default permit\n  rules {\n    deny */shell_exec\n    deny **\n  }')).length, 0);
    // An agent with its own proxy port is served by the proxy without a shared one.
    assert.equal(
      bare(stack('  default permit\n  enforcement {\n    mcp_proxy_port = 8082\n  }\n  rules {\n    deny shell_exec\n  }', '')).length,
      1,
    );
  });
});
