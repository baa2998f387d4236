/**
 * A reply read through the AWS clients is bounded: an endpoint that answers GetSecretValue with an
 * endless body (or AssumeRole with a body it says is a gigabyte) fails the read at once with a
 * clear error, which the broker turns into CREDENTIAL_UNAVAILABLE, and the daemon's memory does
 * not grow with it. Before, only the deadline stopped the read, the body held in memory meanwhile.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import { awsSecret } from '../src/credentials/aws.js';
import { awsEndpoint } from './aws-endpoint.js';

const CHUNK = Buffer.alloc(64 << 10, 'a');

/** Writes to the reply for as long as the reader takes it. */
function endless(res: ServerResponse): void {
  let open = true;
  res.on('close', () => (open = false));
  const pump = () => {
    while (open && res.write(CHUNK));
    if (open) res.once('drain', pump);
  };
  pump();
}

/** The requests each service took: a reply past the cap is not asked for again. */
const asked = { sm: 0, sts: 0 };
const aws = createServer((req, res) => {
  req.resume();
  asked[req.headers['x-amz-target'] ? 'sm' : 'sts']++;
  req.on('end', () => {
    if (req.headers['x-amz-target'] === 'secretsmanager.GetSecretValue') {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.write('{"SecretString":"');
      return endless(res);
    }
    // STS: a gigabyte announced, a little sent, the rest never.
    res.writeHead(200, { 'content-type': 'text/xml', 'content-length': String(1 << 30) });
    res.write('<AssumeRoleResponse>');
  });
});

let restore: () => void;
before(async () => {
  restore = await awsEndpoint(aws);
  // Loaded before any clock starts: loading the SDK is not the read.
  await import('@aws-sdk/client-secrets-manager');
  await import('@aws-sdk/client-sts');
});
after(() => {
  aws.closeAllConnections();
  aws.close();
  restore();
});

test('an endless GetSecretValue reply fails the read at the cap, not the deadline, and memory stays bounded', async () => {
  const before = process.resourceUsage().maxRSS;
  const started = Date.now();
  await assert.rejects(
    awsSecret({ region: 'us-east-1' }, { path: 'prod/db', ttl_s: 30, agent: 'pay' }, 4000),
    /AWS SecretsManager GetSecretValue replied with more than 1 MiB/,
  );
  const took = Date.now() - started;
  assert.ok(took < 2000, `the read took ${took} ms`);
  assert.equal(asked.sm, 1, 'not retried');
  // maxRSS is in KiB: the high-water mark grew by far less than the read would have held.
  const grew = (process.resourceUsage().maxRSS - before) >> 10;
  assert.ok(grew < 48, `the daemon grew by ${grew} MiB`);
});

test('a reply that announces more than the cap is refused before it is read', async () => {
  const started = Date.now();
  await assert.rejects(
    awsSecret({ region: 'us-east-1', role_arn: 'arn:aws:iam::123456789012:role/r' }, { path: 'prod/db', ttl_s: 30, agent: 'pay' }, 4000),
    /AWS STS AssumeRole replied with more than 1 MiB/,
  );
  assert.ok(Date.now() - started < 2000);
  assert.equal(asked.sts, 1, 'not retried');
});
