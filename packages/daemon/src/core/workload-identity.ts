/**
 * Agents attested by SPIFFE: with `identity "…" { type = "spiffe", socket, trust_domain }`, an agent's
 * identity is the X.509-SVID `spiffe://<trust domain>/agents/<agent id>` the local SPIRE agent issues
 * to this daemon. Its id and expiry go into every record of that agent; an agent with no current SVID
 * is denied (IDENTITY_UNVERIFIED). Rotations arrive on the Workload API stream and count at the next
 * call. The stream must deliver at start, else the daemon does not start.
 */
import type { PolicyIR, ProviderIR } from '@faramesh/fpl/runtime';
import { providerFields } from '../credentials/provider-fields.js';
import { spiffeSocket, X509Watch } from '../credentials/spiffe.js';
import { SettingsError } from '../stack/settings.js';

/** A SPIFFE trust domain name, as SVIDs spell it (the SPIFFE ID spec). */
const TRUST_DOMAIN = /^[a-z0-9._-]+$/;

/** How long start waits for the Workload API's first answer. */
const FIRST_SVIDS_MS = 5000;

export class WorkloadIdentity {
  private constructor(
    readonly provider: string,
    readonly trustDomain: string,
    /** What the policy said, to tell whether an apply changed it. */
    readonly source: string,
    private readonly watch: X509Watch,
  ) {}

  /** The policy's SPIFFE identity provider, if it has one; its first SVIDs awaited. */
  static async start(ir: PolicyIR, env: NodeJS.ProcessEnv, say: (line: string) => void): Promise<WorkloadIdentity | undefined> {
    const p = spiffeIdentity(ir);
    if (!p) return undefined;
    const f = providerFields(p, env);
    const trustDomain = f.need('trust_domain');
    // SPIRE names ids `spiffe://<lower-case domain>/…`: a trust domain written any other way (as a
    // URI, in capitals, with a path) matches no SVID, and a daemon started on it would deny every
    // agent while apply reported success.
    if (!TRUST_DOMAIN.test(trustDomain))
      throw new SettingsError(
        `identity "${p.name}": trust_domain '${trustDomain}' is not a SPIFFE trust domain name (lower-case letters, digits, '.', '-', '_'; no spiffe:// or path), so no SVID would ever match it`,
      );
    const watch = new X509Watch(spiffeSocket(f, env), trustDomain, say);
    try {
      await watch.start(FIRST_SVIDS_MS);
    } catch (e) {
      watch.close();
      throw new SettingsError(`identity "${p.name}": ${(e as Error).message}`);
    }
    return new WorkloadIdentity(p.name, trustDomain, identitySource(ir)!, watch);
  }

  svidFor(agent: string, nowMs: number): { svid: string; expires_at: string } | { refused: string } {
    const id = `spiffe://${this.trustDomain}/agents/${agent}`;
    const svid = this.watch.get(id, nowMs);
    if (!svid) return { refused: `no current SVID attests agent ${agent} (${id}) from identity "${this.provider}"` };
    return { svid: svid.spiffe_id, expires_at: svid.expires_at };
  }

  status(): { provider: string; trust_domain: string; svids: string[]; last_error?: string } {
    return {
      provider: this.provider,
      trust_domain: this.trustDomain,
      svids: this.watch.ids,
      ...(this.watch.lastError ? { last_error: this.watch.lastError } : {}),
    };
  }

  close(): void {
    this.watch.close();
  }
}

function spiffeIdentity(ir: PolicyIR): ProviderIR | undefined {
  const all = ir.identities.filter((i) => i.type === 'spiffe');
  if (all.length > 1) throw new SettingsError(`only one spiffe identity per stack: ${all.map((i) => i.name).join(', ')}`);
  return all[0];
}

/** The SPIFFE identity block as the policy wrote it (compared across applies). */
export function identitySource(ir: PolicyIR): string | undefined {
  const p = spiffeIdentity(ir);
  return p ? JSON.stringify([p.name, p.fields]) : undefined;
}
