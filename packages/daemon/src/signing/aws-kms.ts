/**
 * Checkpoints signed by AWS KMS with an asymmetric ECC key (`ECC_NIST_P256` or `ECC_NIST_P384`;
 * RSA keys are refused), through the official client. The public key is read once
 * (`GetPublicKey`); each checkpoint is one `Sign` of its digest (`ECDSA_SHA_256`/`_384`). With
 * `role_arn` the daemon assumes that role for KMS (renewed by the SDK as the session nears its
 * end), so its own identity needs no KMS rights. The role needs only `kms:Sign` and
 * `kms:GetPublicKey`. The endpoint follows the SDK's settings (AWS_ENDPOINT_URL_KMS).
 */
import { createHash } from 'node:crypto';
import type { Signer } from '@faramesh/audit';
import { assumeRole } from '../credentials/aws.js';
import type { ProviderFields } from '../credentials/provider-fields.js';
import { deadline } from '../outbound/deadline.js';
import { capAwsReplies } from '../outbound/sdk-reply-cap.js';
import { ecdsaPublicKey, kmsSigner } from './kms-signer.js';

const ALGORITHM = { ECC_NIST_P256: 'ECDSA_SHA_256', ECC_NIST_P384: 'ECDSA_SHA_384' } as const;

export async function awsKmsSigner(name: string, f: ProviderFields): Promise<Signer & { via: string }> {
  const { KMSClient, GetPublicKeyCommand, SignCommand } = await import('@aws-sdk/client-kms');
  const keyId = f.need('key_arn');
  // A key ARN names its region (arn:aws:kms:<region>:<account>:key/<id>), as the reference's
  // production guide relies on; a bare key id or alias needs `region`.
  const region = f.str('region') ?? /^arn:aws[\w-]*:kms:([a-z0-9-]+):/.exec(keyId)?.[1] ?? f.need('region');
  const roleArn = f.str('role_arn');
  const kms = capAwsReplies(
    new KMSClient({
      region,
      ...(roleArn
        ? { credentials: async () => (await assumeRole(region, roleArn, 'kms', 3600, AbortSignal.timeout(f.timeoutMs))).credentials }
        : {}),
    }),
  );
  // The abort signal does not reach the lookup of the daemon's credentials before a request (a
  // credential_process, the instance endpoint): the daemon keeps the deadline itself.
  const got = await deadline(
    kms.send(new GetPublicKeyCommand({ KeyId: keyId }), { abortSignal: AbortSignal.timeout(f.timeoutMs) }),
    f.timeoutMs,
    'AWS KMS',
  );
  const spec = got.KeySpec;
  if (got.KeyUsage !== 'SIGN_VERIFY' || (spec !== 'ECC_NIST_P256' && spec !== 'ECC_NIST_P384') || !got.PublicKey)
    throw new Error(
      `${keyId} is a ${spec ?? '?'} ${got.KeyUsage ?? '?'} key; checkpoints need an ECC_NIST_P256 or ECC_NIST_P384 signing key`,
    );
  const algorithm = f.str('signing_algorithm') ?? ALGORITHM[spec];
  if (algorithm !== ALGORITHM[spec]) throw new Error(`signing_algorithm ${algorithm} does not fit a ${spec} key (${ALGORITHM[spec]})`);
  const { spki, hash } = ecdsaPublicKey(got.PublicKey);
  const via = `aws-kms ${got.KeyId ?? keyId}`;
  return kmsSigner(name, 'ecdsa', spki, via, async (message) => {
    const r = await deadline(
      kms.send(
        new SignCommand({
          KeyId: keyId,
          Message: createHash(hash).update(message).digest(),
          MessageType: 'DIGEST',
          SigningAlgorithm: algorithm,
        }),
        { abortSignal: AbortSignal.timeout(f.timeoutMs) },
      ),
      f.timeoutMs,
      'AWS KMS',
    );
    if (!r.Signature) throw new Error(`${via} returned no signature`);
    return r.Signature;
  });
}
