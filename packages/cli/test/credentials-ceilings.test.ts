/**
 * scope_required's ceiling holds however the provider block writes it and whatever Vault answers:
 * `scope_required = env("…")` (the text "true"), `max_ttl` in any FPL duration form ("1h30m"), and a
 * minted token Vault says never expires (`lease_duration: 0`) all fail closed as CREDENTIAL_UNAVAILABLE.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeVault } from './fake-vault.js';
import { appliedStack, RUNTIME, type Stack } from './daemon-helpers.js';

/** Mints tokens living 3 h, whatever ttl was asked for. */
const long = new FakeVault();
/** Mints tokens living 2 days. */
const days = new FakeVault();
/** Mints tokens Vault reports as never expiring. */
const forever = new FakeVault();
let s: Stack;

const provider = (name: string, v: string, extra: string) => `provider "${name}" {
  type  = "vault"
  addr  = env("${v}_ADDR")
  token = env("${v}_TOKEN")
${extra}
}
`;
const credential = (id: string, p: string, ttl: string) => `  credential "${id}" {
    provider = "${p}"
    scope    = ["payments-write"]
    ttl      = "${ttl}"
    tools    = ["${id}/thing"]
  }
`;

before(async () => {
  await long.start();
  long.mintedTtl = 3 * 3600;
  await days.start();
  days.mintedTtl = 2 * 86400;
  await forever.start();
  forever.mintedTtl = 0;
  s = appliedStack(
    `${RUNTIME}
${provider('from-env', 'LONG', '  scope_required = env("SCOPE_REQUIRED")\n  max_ttl = "60s"')}
${provider('compound', 'LONG', '  scope_required = true\n  max_ttl = "1h30m"')}
${provider('days', 'DAYS', '  scope_required = true\n  max_ttl = "1d"')}
${provider('forever', 'FOREVER', '  scope_required = true\n  max_ttl = "60s"')}
${provider('plain', 'LONG', '  max_ttl = "60s"')}
agent "pay" {
  default deny
  rules {
    permit envreq/thing
    permit compound/thing
    permit days/thing
    permit forever/thing
    permit plain/thing
  }
${credential('envreq', 'from-env', '3h')}${credential('compound', 'compound', '3h')}${credential('days', 'days', '3d')}${credential('forever', 'forever', '30s')}${credential('plain', 'plain', '3h')}}
`,
    {
      LONG_ADDR: long.addr,
      LONG_TOKEN: long.root,
      DAYS_ADDR: days.addr,
      DAYS_TOKEN: days.root,
      FOREVER_ADDR: forever.addr,
      FOREVER_TOKEN: forever.root,
      SCOPE_REQUIRED: 'true',
    },
  );
});

after(() => {
  s.cli('apply', '--stop');
  s.stop();
  long.stop();
  days.stop();
  forever.stop();
});

const call = (tool: string) => s.govern({ agent_id: 'pay', tool_id: tool, args: {} });

test('scope_required = env("…") set to "true" enforces max_ttl', async () => {
  const r = await call('envreq/thing');
  assert.equal(r.effect, 'DENY', JSON.stringify(r));
  assert.equal(r.structured_denial?.code, 'CREDENTIAL_UNAVAILABLE');
  assert.match(r.structured_denial!.human_message, /living 10800s, past max_ttl 60s/);
});

test('max_ttl written as any FPL duration ("1h30m", "1d") is the ceiling, not ignored', async () => {
  for (const [tool, max] of [
    ['compound/thing', 5400],
    ['days/thing', 86400],
  ] as const) {
    const r = await call(tool);
    assert.equal(r.effect, 'DENY', `${tool}: ${JSON.stringify(r)}`);
    assert.equal(r.structured_denial?.code, 'CREDENTIAL_UNAVAILABLE');
    assert.match(r.structured_denial!.human_message, new RegExp(`past max_ttl ${max}s`));
  }
});

test('a minted token Vault says never expires (lease_duration 0) is past any ceiling', async () => {
  const r = await call('forever/thing');
  assert.equal(r.effect, 'DENY', JSON.stringify(r));
  assert.equal(r.structured_denial?.code, 'CREDENTIAL_UNAVAILABLE');
  assert.match(r.structured_denial!.human_message, /never expires/);
});

test('without scope_required, max_ttl alone still does not refuse (as documented)', async () => {
  const r = await call('plain/thing');
  assert.equal(r.effect, 'PERMIT', JSON.stringify(r));
});
