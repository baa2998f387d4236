import type { Artifact } from './artifact.js';
import { problem, type ImportProblem } from './problem.js';
import { refLabel, type ImportRef } from './ref.js';
import type { RegistryKey } from './registry.js';
import { encodeBase64, parseSignatureFile, sameBytes, verifyEd25519 } from './signature.js';
import type { TrustKey } from './trust.js';

export interface VerifyInput {
  ref: ImportRef;
  artifact: Artifact;
  trust: readonly TrustKey[];
  /** The registry's `keys.json`, when reading from the registry (the cache has none). */
  registryKeys?: { keys?: Map<string, RegistryKey>; error?: ImportProblem };
  /** Whether an artifact without a signature is refused (always, since provider manifests are signed too). */
  signatureRequired: boolean;
}

/**
 * Accept the artifact only if one of the keys pinned in `trust { }` for its registry verifies the
 * signature over its exact bytes. The key named in the `.sig` and the registry's `keys.json` only
 * narrow which pinned key to use and catch a confused registry; they never add trust.
 */
export function verifyArtifact(input: VerifyInput): { keyId?: string; error?: ImportProblem } {
  const { ref, artifact } = input;
  const label = refLabel(ref);
  const sigName = `${artifact.fileName}.sig`;
  if (!artifact.sig) {
    if (!input.signatureRequired) return {};
    return {
      error: problem(
        'import-unsigned',
        `${label} has no signature: ${sigName} is missing beside ${artifact.fileName} in ${artifact.dir}`,
        'only signed artifacts can be imported; ask the registry maintainers to sign it',
      ),
    };
  }
  const parsed = parseSignatureFile(artifact.sig, sigName);
  if (!parsed.signature) return { error: parsed.error! };
  const sig = parsed.signature;

  // The keys pinned under the import's registry decide. Only a registry with none pinned may be
  // vouched for by a key pinned under the publisher's key id (the registry docs' form for community
  // packs): otherwise a publisher's pack could pass as a registry's own under its name.
  const byRegistry = input.trust.filter((k) => k.registry === ref.registry);
  const pinned = byRegistry.length > 0 ? byRegistry : input.trust.filter((k) => k.registry === sig.keyId);
  if (pinned.length === 0) {
    return {
      error: problem(
        'import-no-trust-key',
        `no key is pinned for registry "${ref.registry}", so ${label} (signed by key '${sig.keyId}') cannot be trusted`,
        `add trust { key "${ref.registry}" ed25519:<public key> }, after checking key '${sig.keyId}' of the registry's catalog/trust/keys.json out of band`,
      ),
    };
  }

  if (input.registryKeys) {
    const { keys, error } = input.registryKeys;
    if (!keys) return { error: error! };
    const listed = keys.get(sig.keyId);
    if (!listed)
      return {
        error: problem(
          'import-unknown-key',
          `${label} is signed by key '${sig.keyId}', which the registry does not list in its keys (catalog/trust/keys.json)`,
        ),
      };
    if (listed.algorithm !== 'ed25519')
      return {
        error: problem(
          'import-unsupported-algorithm',
          `registry key '${sig.keyId}' uses algorithm '${listed.algorithm}'; only ed25519 is supported`,
        ),
      };
    if (listed.publicKey && sig.publicKey && !sameBytes(listed.publicKey, sig.publicKey)) {
      return {
        error: problem(
          'import-key-mismatch',
          `${sigName} of ${label} names key '${sig.keyId}' with a different public key than the registry's key list gives it`,
        ),
      };
    }
  }

  // Signed by a publisher whose key is pinned by id, under a registry that has its own pinned key.
  const byPublisherId = () =>
    byRegistry.length > 0 && input.trust.some((k) => k.registry === sig.keyId)
      ? {
          error: problem(
            'import-untrusted',
            `${label} is signed by publisher key '${sig.keyId}', which is pinned by its id; such a key is not used for "${ref.registry}", which has its own pinned key`,
            `a registry's own pinned key decides for its name; import the pack under a registry or mirror name with no key pinned, or have "${ref.registry}" sign it`,
          ),
        }
      : undefined;

  let candidates = pinned;
  if (sig.publicKey) {
    const claimed = sig.publicKey;
    candidates = pinned.filter((k) => sameBytes(k.publicKey, claimed));
    if (candidates.length === 0) {
      const publisher = byPublisherId();
      if (publisher) return publisher;
      return {
        error: problem(
          'import-untrusted',
          `${label} is signed by key '${sig.keyId}' (ed25519:${encodeBase64(claimed)}), which is not the key pinned for "${ref.registry}" in trust { }`,
          'if the registry rotated its key, confirm the new key out of band before pinning it',
        ),
      };
    }
  }
  if (candidates.some((k) => verifyEd25519(k.publicKey, artifact.bytes, sig.value))) return { keyId: sig.keyId };
  const publisher = byPublisherId();
  if (publisher) return publisher;
  return {
    error:
      artifact.origin === 'cache'
        ? problem(
            'import-bad-signature',
            `the cached copy of ${label} in ${artifact.dir} does not match its signature under the pinned key: the cache was modified`,
            'delete that directory and run faramesh check without --offline to fetch it again',
          )
        : problem(
            'import-bad-signature',
            `signature of ${label} does not verify under the key pinned for "${ref.registry}": ${artifact.fileName} was modified after signing, or signed by another key`,
          ),
  };
}
