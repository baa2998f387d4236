/** The agent launcher keeps ambient credentials away from the agent (strip_ambient_credentials, strip_env). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { makeStack } from './daemon-helpers.js';

const ambient = {
  AWS_SECRET_ACCESS_KEY: 'aws-secret',
  VAULT_TOKEN: 'hvs.secret',
  MY_SECRET_ONE: 'mine',
  OPENAI_API_KEY: 'model-key',
  PATH: process.env.PATH!,
};

function agentEnv(runtimeExtra: string, rest = '', extra: Record<string, string> = {}): Record<string, string> {
  const s = makeStack(
    `runtime {\n  wal_dir = "./wal"\n  socket  = "./.faramesh/runtime/agent.sock"\n${runtimeExtra}}\n${rest}\nagent "a" {\n  default deny\n}\n`,
    extra,
  );
  try {
    const applied = s.cli('apply');
    assert.equal(applied.code, 0, applied.stderr + applied.stdout);
    const r = spawnSync(join(s.dir, '.faramesh', 'bin', 'agent'), ['--', 'env'], { encoding: 'utf8', env: { ...ambient, ...extra } });
    return Object.fromEntries(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
  } finally {
    s.cli('apply', '--stop');
  }
}

test('by default cloud and secret-store credentials stay behind, strip_env adds patterns, model keys and the stack env remain', () => {
  const env = agentEnv('  strip_env = ["MY_SECRET_*"]\n');
  assert.equal(env.AWS_SECRET_ACCESS_KEY, undefined);
  assert.equal(env.VAULT_TOKEN, undefined);
  assert.equal(env.MY_SECRET_ONE, undefined);
  assert.equal(env.OPENAI_API_KEY, 'model-key');
  assert.match(env.FARAMESH_SOCKET ?? '', /agent\.sock$/);
});

test('strip_ambient_credentials = false passes them on; a strip_env entry that is not a name is refused at apply', () => {
  const env = agentEnv('  strip_ambient_credentials = false\n');
  assert.equal(env.AWS_SECRET_ACCESS_KEY, 'aws-secret');
  const s = makeStack('runtime {\n  wal_dir = "./wal"\n  strip_env = ["X; rm -rf /"]\n}\n\nagent "a" {\n  default deny\n}\n');
  const r = s.cli('apply');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr + r.stdout, /strip_env/);
  s.stop();
});

test("what a provider block reads through env() stays behind too, whatever its name: it is the daemon's authority", () => {
  const provider = `
provider "vault" {
  type  = "vault"
  addr  = "http://127.0.0.1:1"
  token = env("PAYMENTS_VAULT_TOKEN")
}
`;
  const env = agentEnv('', provider, { PAYMENTS_VAULT_TOKEN: 'hvs.daemon-token' });
  assert.equal(env.PAYMENTS_VAULT_TOKEN, undefined);
  assert.equal(env.OPENAI_API_KEY, 'model-key');
  // strip_ambient_credentials = false remains the way to pass them on.
  assert.equal(
    agentEnv('  strip_ambient_credentials = false\n', provider, { PAYMENTS_VAULT_TOKEN: 'hvs.daemon-token' }).PAYMENTS_VAULT_TOKEN,
    'hvs.daemon-token',
  );
});

test("what an mcp_server is handed through env() (PATH, a model key) stays the agent's too: only provider and identity blocks hold the daemon's authority", () => {
  const server = `
mcp_server "summarize" {
  command = "/bin/true"
  env = {
    PATH           = env("PATH")
    OPENAI_API_KEY = env("OPENAI_API_KEY")
  }
}
`;
  const env = agentEnv('', server);
  // Without PATH the launcher could not even exec `env`.
  assert.equal(env.PATH, process.env.PATH);
  assert.equal(env.OPENAI_API_KEY, 'model-key');
});
