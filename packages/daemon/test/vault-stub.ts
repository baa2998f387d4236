/** Test helper: an HTTP server standing in for Vault, and a policy whose agent `pay` reads a KV secret from it for `pay/charge`. */
import { createServer, type RequestListener } from 'node:http';
import { compile, Source, type CredentialIR, type PolicyIR } from '@faramesh/fpl';

export async function withVaultStub(answer: RequestListener, run: (ir: PolicyIR, binding: CredentialIR) => Promise<void>): Promise<void> {
  const vault = createServer(answer);
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
    await run(ir, ir.agents[0]!.credentials[0]!);
  } finally {
    vault.close();
  }
}
