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
import type { CredentialIR, PolicyIR } from '@faramesh/fpl';
import { makeOut, type Out } from '../output.js';
import { compileStack } from '../stack-compile.js';
import { renderDiagnostic } from '../diagnostics.js';

interface Options {
  dir: string;
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

export async function credentialProbe(provider: string, o: Options): Promise<number> {
  const out = makeOut(o.noColor);
  const ir = await policyOf(o.dir, out);
  if (!ir) return 1;
  if (!ir.providers.some((p) => p.name === provider)) {
    out.error(out.fail(`no provider "${provider}" in the policy (providers: ${ir.providers.map((p) => p.name).join(', ') || 'none'})`));
    return 1;
  }
  if (signingProvider(ir)?.name === provider) return probeSigner(ir, o.dir, out);
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
  let failed = 0;
  for (const { agent, c } of bound) {
    const got = await broker.issue(ir, c, agent, c.tools[0] ?? 'probe', Date.now());
    if (got.ok) out.done(`${agent}/${c.id}: issued, ttl ${got.ref.ttl_s}s, ${got.ref.issuance_id}`);
    else {
      failed++;
      out.error(out.fail(`${agent}/${c.id}: ${got.message}`));
    }
  }
  return failed === 0 ? 0 : 1;
}

async function probeSigner(ir: PolicyIR, dir: string, out: Out): Promise<number> {
  try {
    const stackDir = resolve(dir);
    const { signer, via } = await checkpointSigner(ir, process.env, loadStackSigner(stackDir, originFor(basename(stackDir))));
    const note = await signNote(`faramesh signing probe\n${new Date().toISOString()}\n`, [signer]);
    if (!openNote(note, [signer]).ok) throw new Error(`${via} signed, but the signature does not verify against its public key`);
    out.done(`${via}: signs checkpoints (${signer.type}); the verifier key to pin:`);
    out.print(encodeVerifierKey(signer));
    return 0;
  } catch (e) {
    out.error(out.fail((e as Error).message));
    return 1;
  }
}

export async function credentialPreview(o: Options & { agent: string; tool: string }): Promise<number> {
  const out = makeOut(o.noColor);
  const ir = await policyOf(o.dir, out);
  if (!ir) return 1;
  const broker = new CredentialBroker(process.env);
  const binding: CredentialIR | undefined = broker.bindingFor(ir, o.agent, o.tool);
  if (!binding) {
    out.print(`${o.agent} calling ${o.tool}: no credential is bound (the call gets none)`);
    return 0;
  }
  let provider: string;
  try {
    provider = broker.providerOf(binding);
  } catch (e) {
    out.error(out.fail((e as Error).message));
    return 1;
  }
  const declared = ir.providers.find((p) => p.name === provider);
  out.print(`${o.agent} calling ${o.tool}: credential "${binding.id}" (${binding.ref})`);
  out.print(`  provider  ${provider}${declared ? ` (${declared.type})` : ' (not declared: a STUB secret)'}`);
  out.print(
    `  what      ${binding.path !== undefined ? `KV read of ${binding.path}` : `a child token with policies [${binding.scope.join(', ')}]`}`,
  );
  out.print(`  ttl       ${binding.ttl_s ?? 30}s`);
  out.print(`  injected  as ${binding.header ?? 'Authorization: Bearer …'} by the HTTP proxy, or by credential() in the SDK`);
  return 0;
}
