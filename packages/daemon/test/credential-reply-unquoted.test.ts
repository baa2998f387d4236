/**
 * A provider reply that is not JSON is named in the denial, never quoted: JSON.parse quotes the start
 * of what it read, and a Vault answered by something sending the bare secret would put it in the
 * agent's denial and in the log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { compile, Source } from '@faramesh/fpl';
import { CredentialBroker } from '../src/credentials/broker.js';

test('a Vault reply that is not JSON: CREDENTIAL_UNAVAILABLE names the fault and quotes none of it', async () => {
  const vault = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('sk_live_BARE_SECRET');
  });
  await new Promise<void>((r) => vault.listen(0, '127.0.0.1', () => r()));
  try {
    const addr = `http://127.0.0.1:${(vault.address() as { port: number }).port}`;
    const ir = compile(
      new Source(
        'governance.fms',
        `provider "vault" {
  type  = "vault"
  addr  = "${addr}"
  token = "t"
  mount = "kv"
}

agent "pay" {
  default deny
  rules {
    permit pay/charge
  }
  credential "stripe" {
    provider = "vault"
    path     = "payments/stripe"
    tools    = ["pay/charge"]
  }
}
`,
      ),
      { env: {} },
    ).ir!;
    const got = await new CredentialBroker({}).issue(ir, ir.agents[0]!.credentials[0]!, 'pay', 'pay/charge', Date.now());
    assert.equal(got.ok, false);
    assert.equal(!got.ok && got.message, 'vault provider: its reply is not valid JSON');
  } finally {
    vault.close();
  }
});
