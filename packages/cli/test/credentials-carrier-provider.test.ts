/**
 * A credential a proxy attaches, asked for over the socket, is refused with CREDENTIAL_UNAVAILABLE;
 * the structured denial's `provider` names the provider, `env("…")` read, as errors.md shows it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, makeStack, type Stack } from './daemon-helpers.js';

let s: Stack;

before(async () => {
  const port = await freePort();
  s = makeStack(
    `runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
}

provider "vault" {
  type  = "vault"
  addr  = "http://127.0.0.1:1"
  token = "t"
  mount = "kv"
}

agent "pay" {
  default deny
  enforcement {
    http_proxy_port = ${port}
  }
  rules {
    permit http/get
    permit http/post
  }
  credential "regional" {
    provider = env("REGION_PROVIDER")
    path     = "payments/stripe"
    tools    = ["http/get"]
  }
  credential "named" {
    provider = "vault"
    path     = "payments/stripe"
    tools    = ["http/post"]
  }
}
`,
    { REGION_PROVIDER: 'vault' },
  );
  const applied = s.cli('apply');
  assert.equal(applied.code, 0, applied.stderr + applied.stdout);
});

after(() => {
  s.cli('apply', '--stop');
  s.stop();
});

test('the standing refusal names the provider, whether written or read from the environment', async () => {
  for (const tool of ['http/get', 'http/post']) {
    const r = await s.govern({ agent_id: 'pay', tool_id: tool, args: {} });
    assert.equal(r.reason_code, 'CREDENTIAL_UNAVAILABLE');
    assert.equal((r.structured_denial as { provider?: string }).provider, 'vault', tool);
  }
});
