/**
 * faramesh credential probe <provider> [--dir]: can the broker still get each credential the policy
 * binds to that provider? Fetches a fresh one per `credential` block (no tool call is made) and
 * prints its TTL and issuance id, never its value. Exit 0 when all succeed, 1 otherwise. For the
 * signing provider (a KMS): reads its public key, has it sign a probe and checks the signature, and
 * prints the verifier key an auditor pins (`audit verify --key`).
 *
 * faramesh credential preview --agent <id> --tool <tool> [--dir]: which credential a permitted call
 * of that tool would get, and where it would go; nothing is fetched.
 */
import { basename, resolve } from 'node:path';
import { encodeVerifierKey, loadStackSigner, openNote, originFor, signNote } from '@faramesh/audit';
import { checkpointSigner, CredentialBroker, signingProvider } from '@faramesh/daemon';
import type { CredentialIR, PolicyIR, ProviderIR } from '@faramesh/fpl';
import { makeOut, type Format, type Out } from '../output.js';
import { compileStack } from '../stack-compile.js';
import { renderDiagnostic } from '../diagnostics.js';

interface Options {
  dir: string;
  format?: Format;
  noColor?: boolean;
}

async function policyOf(dir: string, out: Out): Promise<PolicyIR | undefined> {
  const { result } = await compileStack(resolve(dir));
  if (!result.ir) {
    for (const d of result.diagnostics.sorted()) out.error(renderDiagnostic(d, out.color) + '\n');
    return undefined;
  }
  return result.ir;
}

/** What probe found, never a credential's value: one result per credential block, or the signer's. */
interface ProbeReport {
  provider: string;
  results?: ({ agent: string; credential: string } & ({ ok: true; ttl_s: number; issuance_id: string } | { ok: false; error: string }))[];
  signer?: { ok: true; via: string; type: string; verifier_key: string } | { ok: false; error: string };
}

export async function credentialProbe(provider: string, o: Options): Promise<number> {
  const out = makeOut(o.noColor);
  const ir = await policyOf(o.dir, out);
  if (!ir) return 1;
  if (!ir.providers.some((p) => p.name === provider)) {
    out.error(out.fail(`no provider "${provider}" in the policy (providers: ${ir.providers.map((p) => p.name).join(', ') || 'none'})`));
    return 1;
  }
  const report: ProbeReport = { provider };
  if (signingProvider(ir)?.name === provider) report.signer = await probeSigner(ir, o.dir);
  else {
    const broker = new CredentialBroker(process.env);
    const names = (c: CredentialIR) => {
      try {
        return broker.providerOf(c) === provider;
      } catch {
        return false;
      }
    };
    const bound = ir.agents.flatMap((a) => a.credentials.filter(names).map((c) => ({ agent: a.id, c })));
    if (bound.length === 0) {
      out.error(out.fail(`no credential block uses provider "${provider}"`));
      return 1;
    }
    report.results = [];
    for (const { agent, c } of bound) {
      const got = await broker.issue(ir, c, agent, c.tools[0] ?? 'probe', Date.now());
      report.results.push(
        got.ok
          ? { agent, credential: c.id, ok: true, ttl_s: got.ref.ttl_s, issuance_id: got.ref.issuance_id }
          : { agent, credential: c.id, ok: false, error: got.message },
      );
    }
  }
  if (o.format === 'json') out.print(JSON.stringify(report, null, 2));
  else printProbe(out, report);
  return [...(report.results ?? []), ...(report.signer ? [report.signer] : [])].every((r) => r.ok) ? 0 : 1;
}

function printProbe(out: Out, { results, signer }: ProbeReport): void {
  for (const r of results ?? []) {
    if (r.ok) out.done(`${r.agent}/${r.credential}: issued, ttl ${r.ttl_s}s, ${r.issuance_id}`);
    else out.error(out.fail(`${r.agent}/${r.credential}: ${r.error}`));
  }
  if (signer?.ok) {
    out.done(`${signer.via}: signs checkpoints (${signer.type}); the verifier key to pin:`);
    out.print(signer.verifier_key);
  } else if (signer) out.error(out.fail(signer.error));
}

/** The signing provider (a KMS): it signs a probe, and the signature verifies against its public key. */
async function probeSigner(ir: PolicyIR, dir: string): Promise<ProbeReport['signer']> {
  try {
    const stackDir = resolve(dir);
    const { signer, via } = await checkpointSigner(ir, process.env, loadStackSigner(stackDir, originFor(basename(stackDir))));
    const note = await signNote(`faramesh signing probe\n${new Date().toISOString()}\n`, [signer]);
    if (!openNote(note, [signer]).ok) throw new Error(`${via} signed, but the signature does not verify against its public key`);
    return { ok: true, via, type: signer.type, verifier_key: encodeVerifierKey(signer) };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

/** Which credential a permitted call would get; `credential: null` when no block binds the tool. */
interface Preview {
  agent: string;
  tool: string;
  credential: {
    id: string;
    ref: string;
    provider: string;
    /** The declared provider's type; null when it is not declared, so the call gets a stub secret. */
    provider_type: string | null;
    stub: boolean;
    what: string;
    ttl_s: number;
    header: string;
  } | null;
}

export async function credentialPreview(o: Options & { agent: string; tool: string }): Promise<number> {
  const out = makeOut(o.noColor);
  const ir = await policyOf(o.dir, out);
  if (!ir) return 1;
  // An agent the policy does not declare is denied every call: "no credential" would hide a typo.
  if (!ir.agents.some((a) => a.id === o.agent)) {
    out.error(out.fail(`no agent '${o.agent}' in the policy (agents: ${ir.agents.map((a) => a.id).join(', ') || 'none'})`));
    return 1;
  }
  const broker = new CredentialBroker(process.env);
  const binding: CredentialIR | undefined = broker.bindingFor(ir, o.agent, o.tool);
  const preview: Preview = { agent: o.agent, tool: o.tool, credential: null };
  if (binding) {
    let provider: string;
    try {
      provider = broker.providerOf(binding);
    } catch (e) {
      out.error(out.fail((e as Error).message));
      return 1;
    }
    const declared = ir.providers.find((p) => p.name === provider);
    // A name read from the environment that matches no block is refused by the daemon, never a stub.
    const fromEnv = binding.provider !== undefined && typeof binding.provider !== 'string';
    preview.credential = {
      id: binding.id,
      ref: binding.ref,
      provider,
      provider_type: declared?.type ?? null,
      stub: !declared && !fromEnv,
      what:
        !declared && fromEnv
          ? `nothing: provider "${provider}" (from the environment) names no provider block, so the call is denied CREDENTIAL_UNAVAILABLE`
          : fetched(declared, binding, o.agent),
      ttl_s: binding.ttl_s ?? 30,
      header: binding.header ?? 'Authorization: Bearer …',
    };
  }
  if (o.format === 'json') out.print(JSON.stringify(preview, null, 2));
  else printPreview(out, preview);
  return 0;
}

/** What the broker fetches for a binding, by the provider's type (undeclared: a stub secret). */
function fetched(p: ProviderIR | undefined, c: CredentialIR, agent: string): string {
  const audience = `[${c.scope.join(', ')}]`;
  const type = p?.type;
  switch (type) {
    case undefined:
      return `a stub secret, STUB-${c.id}`;
    case 'vault':
      return c.path !== undefined ? `KV read of ${c.path}` : `a child token with policies ${audience}`;
    case 'aws-sm':
    case 'aws-secrets-manager':
      return `AWS Secrets Manager secret ${c.path ?? '(none: the credential needs a path)'}`;
    case 'gcp-sm':
      return `GCP Secret Manager secret ${c.path ?? '(none: the credential needs a path)'}`;
    case 'azure-kv':
      return `Azure Key Vault secret ${c.path ?? '(none: the credential needs a path)'}`;
    case 'spiffe': {
      const domain = typeof p!.fields.trust_domain === 'string' ? p!.fields.trust_domain : '<trust_domain>';
      return `a JWT-SVID for ${c.path ?? `spiffe://${domain}/agents/${agent}`} with audience ${audience}`;
    }
    default:
      return `nothing: provider type '${type}' cannot issue credentials`;
  }
}

function printPreview(out: Out, { agent, tool, credential: c }: Preview): void {
  if (!c) {
    out.print(`${agent} calling ${tool}: no credential is bound (the call gets none)`);
    return;
  }
  out.print(`${agent} calling ${tool}: credential "${c.id}" (${c.ref})`);
  out.print(
    `  provider  ${c.provider}${c.provider_type !== null ? ` (${c.provider_type})` : c.stub ? ' (not declared: a STUB secret)' : ' (not declared)'}`,
  );
  out.print(`  what      ${c.what}`);
  out.print(`  ttl       ${c.ttl_s}s`);
  out.print(`  injected  as ${c.header} by the HTTP proxy, or by credential() in the SDK`);
}
