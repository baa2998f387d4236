/**
 * What the object-store sink tests (s3-sink, gcs-sink) share: decisions made through a live daemon
 * must land as hourly NDJSON objects named by sequence range, redacted; an outage degrades the sink
 * without slowing decisions, and once the store is back every record lands, none twice, no gap.
 */
import assert from 'node:assert/strict';
import { makeStack, until, type Stack } from './daemon-helpers.js';
import type { FakeAws } from './fake-aws.js';

export interface ObjectStore {
  /** Objects by `bucket/key`. */
  objects: Map<string, { body: string; contentType?: string }>;
  /** Make uploads fail, or succeed again. */
  down(on: boolean): void;
  /** The sink's error while the store is down. */
  error: RegExp;
  /** Every upload was authenticated as the store requires. */
  authenticated(): boolean;
}

type Status = { providers: { name: string; status: string; shipped: number; last_error?: string }[] };

export async function objectSinkScenario(s: Stack, store: ObjectStore): Promise<void> {
  const status = async (): Promise<Status> => JSON.parse((await s.cliAsync('status', '--format', 'json')).stdout) as Status;
  const shipped = () =>
    [...store.objects.entries()].flatMap(([key, o]) =>
      o.body
        .trimEnd()
        .split('\n')
        .map((l) => ({ key, record: JSON.parse(l) as { seq: number; type: string; time: string; args?: Record<string, unknown> } })),
    );
  for (let i = 0; i < 3; i++)
    assert.equal((await s.govern({ agent_id: 'bot', tool_id: 'ticket/read', args: { id: i, card: '4111111111111111' } })).effect, 'PERMIT');
  await until('the first objects', () => shipped().some((x) => x.record.type === 'decision'), 20_000);
  const [key, object] = [...store.objects.entries()][0]!;
  assert.match(key, /^audit-archive\/decisions\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/\d{12}-\d{12}\.ndjson$/);
  assert.equal(object.contentType, 'application/x-ndjson');
  const first = shipped()[0]!.record;
  const hour = new Date(first.time).toISOString().slice(0, 13).replace(/[-T]/g, '/');
  assert.ok(key.includes(`/decisions/${hour}/`), `${key} is filed under the hour of its records (${hour})`);
  assert.ok(store.authenticated(), 'every upload was authenticated');
  assert.equal(shipped().find((x) => x.record.type === 'decision')!.record.args?.card, '[REDACTED]', 'arguments ship redacted');

  store.down(true);
  for (let i = 3; i < 6; i++) assert.equal((await s.govern({ agent_id: 'bot', tool_id: 'ticket/read', args: { id: i } })).effect, 'PERMIT');
  await until('the sink to degrade', async () => (await status()).providers[0]!.status === 'DEGRADED', 20_000);
  assert.match((await status()).providers[0]!.last_error!, store.error);
  store.down(false);
  await until('the sink to recover', async () => (await status()).providers[0]!.status === 'HEALTHY', 30_000);
  await until('every decision to land', () => shipped().filter((x) => x.record.type === 'decision').length === 6, 20_000);
  const seqs = shipped().map((x) => x.record.seq);
  assert.equal(new Set(seqs).size, seqs.length, 'no record twice');
  const sorted = [...seqs].sort((a, b) => a - b);
  assert.deepEqual(
    sorted,
    Array.from({ length: sorted.length }, (_, i) => sorted[0]! + i),
    'no gap',
  );
}

/** The stack both sink tests run: one agent whose card argument is redacted, and the sink given. */
export const sinkPolicy = (provider: string) => `runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
}

${provider}
agent "bot" {
  default deny
  rules {
    permit ticket/read
  }
  redact ticket/read args: ["card"]
}
`;

/** A stack whose s3-sink writes to the fake S3 (path style), under `prefix`, with the fake's root key. */
export function s3Stack(aws: FakeAws, prefix = 'decisions'): Stack {
  return makeStack(
    sinkPolicy(`provider "archive" {
  type       = "s3-sink"
  region     = "us-east-1"
  bucket     = "audit-archive"
  prefix     = "${prefix}"
  path_style = true
}
`),
    {
      AWS_ACCESS_KEY_ID: aws.rootKey,
      AWS_SECRET_ACCESS_KEY: aws.rootSecret,
      AWS_ENDPOINT_URL_S3: aws.url,
      AWS_EC2_METADATA_DISABLED: 'true',
    },
  );
}
