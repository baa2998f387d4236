/**
 * A stdio MCP server the daemon starts does not inherit the daemon's own credentials: the ambient
 * ones (cloud keys), whatever the policy reads through env() (a provider's token, by any name) and
 * what strip_env withholds from agents. A tool must not fall back on them. What its `env` names it
 * still gets.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { freePort, makeStack, type Stack } from './daemon-helpers.js';

const fixture = fileURLToPath(new URL('../../test/fixtures/mcp-header-server.mjs', import.meta.url));
let s: Stack;
let port = 0;
let out = '';

before(async () => {
  port = await freePort();
  s = makeStack(
    `runtime {
  wal_dir = "./wal"
  strip_env = ["OPERATOR_SECRET", "ACME_*"]
  socket  = "./.faramesh/runtime/agent.sock"
}

provider "vault" {
  type  = "vault"
  addr  = env("VAULT_ADDR")
  token = env("PROD_VAULT_TOKEN")
}

mcp_server "local" {
  command = "/bin/sh"
  args    = ["-c", ${JSON.stringify(`env > "$OUT"; exec "${process.execPath}" "${fixture}" stdio`)}]
  env     = { OUT = "ENVFILE", GITHUB_TOKEN = "given-on-purpose" }
}

agent "coder" {
  default deny
  enforcement {
    mcp_proxy_port = ${port}
  }
  rules {
    permit local/whoami
  }
}
`,
    {
      VAULT_ADDR: 'http://127.0.0.1:1',
      PROD_VAULT_TOKEN: 'hvs.DAEMON-TOKEN',
      OPERATOR_SECRET: 'OP-SECRET',
      ACME_KEY: 'ACME-SECRET',
      AWS_SECRET_ACCESS_KEY: 'DAEMON-AWS-SECRET',
      FARAMESH_PROBE_PLAIN: 'kept',
    },
  );
  out = join(s.dir, 'server.env');
  const fms = join(s.dir, 'governance.fms');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(fms, readFileSync(fms, 'utf8').replace('ENVFILE', out));
  const applied = s.cli('apply');
  assert.equal(applied.code, 0, applied.stderr + applied.stdout);
});

after(() => {
  s.cli('apply', '--stop');
  s.stop();
});

test("a stdio MCP server gets its env and the daemon's plain environment, never the daemon's credentials", async () => {
  const c = new Client({ name: 'stdio-env-test', version: '1.0.0' });
  await c.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp/local`)));
  try {
    await c.callTool({ name: 'whoami', arguments: {} });
  } finally {
    await c.close();
  }
  const env = readFileSync(out, 'utf8');
  assert.doesNotMatch(env, /DAEMON-TOKEN/, "the daemon's Vault token");
  assert.doesNotMatch(env, /DAEMON-AWS-SECRET/, "the daemon's AWS key");
  assert.doesNotMatch(env, /OP-SECRET|ACME-SECRET/, 'what strip_env withholds from agents');
  assert.match(env, /^GITHUB_TOKEN=given-on-purpose$/m, 'what env names, it gets');
  assert.match(env, /^FARAMESH_PROBE_PLAIN=kept$/m);
});
