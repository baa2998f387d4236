import type { Diagnostics } from '../syntax/diagnostics.js';
import type { Locations } from '../lower/context.js';
import type { PolicyIR } from '../ir.js';
import { reportAt } from './report.js';

/**
 * Credential blocks that would hand out more than they name. A Vault credential without a `path`
 * is a child token minted per call, whose policies are its `scope`; with no scope, Vault gives the
 * child every policy of the daemon's own token — the daemon's whole authority, to the agent. A
 * ttl of 0 is refused: it is no lifetime, and Vault would mint the token with its own default.
 */
export function checkCredentials(ir: PolicyIR, diagnostics: Diagnostics, locate: Locations): void {
  const types = new Map(ir.providers.map((p) => [p.name, p.type]));
  for (const agent of ir.agents)
    for (const c of agent.credentials) {
      // Vault reads a ttl of 0 as none given: the token would get the mount's default, often days.
      if (c.ttl_s !== undefined && !(c.ttl_s > 0))
        reportAt(
          diagnostics,
          locate,
          c,
          'error',
          'credential-ttl',
          `agent "${agent.id}": credential "${c.id}" has ttl 0: a provider reads that as no limit (Vault gives its default, often days)`,
          'give it a lifetime such as ttl = "30s", or leave ttl out for the default 30 s',
        );
      if (typeof c.provider === 'string' && !types.has(c.provider))
        reportAt(
          diagnostics,
          locate,
          c,
          'warning',
          'credential-stub',
          `agent "${agent.id}": credential "${c.id}" names no provider block "${c.provider}": its calls get a STUB secret (development only)`,
          'declare provider "…" { type = … }, or fix the name',
        );
      // One naming no provider at all is served the same stub: as quietly wrong in production.
      if (c.provider === undefined)
        reportAt(
          diagnostics,
          locate,
          c,
          'warning',
          'credential-stub',
          `agent "${agent.id}": credential "${c.id}" names no provider: its calls get a STUB secret (development only)`,
          'name the provider block to ask: provider = "…"',
        );
      if (typeof c.provider !== 'string' || types.get(c.provider) !== 'vault') continue;
      if (c.path !== undefined || c.scope.length > 0) continue;
      reportAt(
        diagnostics,
        locate,
        c,
        'error',
        'credential-unscoped',
        `agent "${agent.id}": credential "${c.id}" would mint a Vault token with no policies, which Vault fills with every policy of the daemon's own token`,
        'name its policies with scope = ["…"], or a KV secret with path = "…"',
      );
    }
}
