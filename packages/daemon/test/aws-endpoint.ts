/**
 * Points the AWS SDK at a test server in this process: STS and Secrets Manager at its URL, static
 * fake keys, no instance metadata. Returns what puts the environment back.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export async function awsEndpoint(server: Server): Promise<() => void> {
  const saved = { ...process.env };
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_STS: url,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: url,
    AWS_ACCESS_KEY_ID: 'AKIAFAKE',
    AWS_SECRET_ACCESS_KEY: 'fake',
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  return () => {
    process.env = saved;
  };
}
