/**
 * `faramesh status` reports each credential provider's health (cli/status.md: HEALTHY, DEGRADED or
 * DOWN, exit 3 when one is not HEALTHY): probed once when the daemon starts, then from what calls
 * meet. A provider failing after it worked is DEGRADED, and DOWN once it has failed three times in a
 * row; a call that gets its credential again makes it HEALTHY.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appliedStack, RUNTIME, type Stack } from './daemon-helpers.js';
import { FakeVault, VAULT_PROVIDER, vaultEnv } from './fake-vault.js';

interface Provider {
  name: string;
  kind?: string;
  type: string;
  status: string;
  last_probe_seconds_ago?: number;
  last_error?: string;
}

const vaultStatus = (s: Stack) => {
  const r = s.cli('status', '--format', 'json');
  const json = JSON.parse(r.stdout) as { providers: Provider[] };
  return { code: r.code, vault: json.providers.find((p) => p.name === 'vault') };
};

test('status reports a credential provider HEALTHY, DEGRADED, DOWN and HEALTHY again, and exits 3 while it is not', async () => {
  const vault = new FakeVault();
  await vault.start();
  const s = appliedStack(
    `${RUNTIME}
${VAULT_PROVIDER}
agent "bot" {
  default deny
  rules {
    permit db/query
  }
  credential "db" {
    provider = "vault"
    scope    = ["db-read"]
    ttl      = "30s"
    tools    = ["db/query"]
  }
}
`,
    vaultEnv(vault),
  );
  try {
    // Probed at start, before any call needed it.
    let seen = vaultStatus(s);
    for (let i = 0; i < 100 && seen.vault?.status !== 'HEALTHY'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      seen = vaultStatus(s);
    }
    assert.equal(seen.vault?.status, 'HEALTHY', JSON.stringify(seen));
    assert.deepEqual([seen.vault.kind, seen.vault.type, seen.code], ['credentials', 'vault', 0]);
    assert.equal(typeof seen.vault.last_probe_seconds_ago, 'number');
    assert.match(s.cli('status').stdout, /\n {2}vault {11}HEALTHY {5}vault {9}last probe: \d+s ago/);

    // Vault seals: calls are refused, and status says so: DEGRADED (it worked before), then DOWN.
    vault.sealed = true;
    const query = () => s.govern({ agent_id: 'bot', tool_id: 'db/query', args: {} });
    assert.equal((await query()).structured_denial?.code, 'CREDENTIAL_UNAVAILABLE');
    seen = vaultStatus(s);
    assert.deepEqual([seen.vault?.status, seen.code], ['DEGRADED', 3]);
    assert.match(seen.vault?.last_error ?? '', /503|sealed/);
    await query();
    await query();
    seen = vaultStatus(s);
    assert.deepEqual([seen.vault?.status, seen.code], ['DOWN', 3]);
    assert.equal(s.cli('status', '-q').stdout.trim(), '3');

    // Unsealed: the next call gets its credential, and the provider is HEALTHY again.
    vault.sealed = false;
    assert.equal((await query()).effect, 'PERMIT');
    seen = vaultStatus(s);
    assert.deepEqual([seen.vault?.status, seen.code, seen.vault?.last_error], ['HEALTHY', 0, undefined]);
  } finally {
    s.cli('apply', '--stop');
    vault.stop();
  }
});
