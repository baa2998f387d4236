/**
 * The s3-sink with the official client against a fake S3 that checks SigV4 and the payload hash:
 * records land as NDJSON objects under `<prefix>YYYY/MM/DD/HH/<first>-<last>.ndjson`; an outage
 * degrades the sink without slowing decisions, and once S3 is back every record lands, none twice.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeAws } from './fake-aws.js';
import { makeStack, until, type Stack } from './daemon-helpers.js';

const aws = new FakeAws();
let s: Stack;

before(async () => {
  await aws.start();
  s = makeStack(
    `runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
}

provider "archive" {
  type       = "s3-sink"
  region     = "us-east-1"
  bucket     = "audit-archive"
  prefix     = "decisions"
  path_style = true
}

agent "bot" {
  default deny
  rules {
    permit ticket/read
  }
  redact ticket/read args: ["card"]
}
`,
    {
      AWS_ACCESS_KEY_ID: aws.rootKey,
      AWS_SECRET_ACCESS_KEY: aws.rootSecret,
      AWS_ENDPOINT_URL_S3: aws.url,
      AWS_EC2_METADATA_DISABLED: 'true',
    },
  );
  const applied = await s.cliAsync('apply');
  assert.equal(applied.code, 0, applied.stderr);
});
after(async () => {
  await s.cliAsync('apply', '--stop');
  aws.stop();
});

type Status = { providers: { name: string; status: string; shipped: number; last_error?: string }[] };
const status = async (): Promise<Status> => JSON.parse((await s.cliAsync('status', '--format', 'json')).stdout) as Status;
const shipped = () =>
  [...aws.objects.entries()].flatMap(([key, o]) =>
    o.body
      .trimEnd()
      .split('\n')
      .map((l) => ({ key, record: JSON.parse(l) as { seq: number; type: string; time: string; args?: Record<string, unknown> } })),
  );

test('records land as hourly NDJSON objects; an outage degrades the sink, then every record lands once', async () => {
  for (let i = 0; i < 3; i++)
    assert.equal((await s.govern({ agent_id: 'bot', tool_id: 'ticket/read', args: { id: i, card: '4111111111111111' } })).effect, 'PERMIT');
  await until('the first objects', () => shipped().some((x) => x.record.type === 'decision'), 20_000);
  const [key, object] = [...aws.objects.entries()][0]!;
  assert.match(key, /^audit-archive\/decisions\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/\d{12}-\d{12}\.ndjson$/);
  assert.equal(object.contentType, 'application/x-ndjson');
  const first = shipped()[0]!.record;
  const hour = new Date(first.time).toISOString().slice(0, 13).replace(/[-T]/g, '/');
  assert.ok(key.includes(`/decisions/${hour}/`), `${key} is filed under the hour of its records (${hour})`);
  assert.ok(
    aws.calls.filter((c) => c.service === 's3').every((c) => c.signed),
    'every PutObject carried a valid SigV4 signature',
  );
  const decision = shipped().find((x) => x.record.type === 'decision')!.record;
  assert.equal(decision.args?.card, '[REDACTED]', 'arguments ship redacted');

  aws.s3Down = true;
  for (let i = 3; i < 6; i++) assert.equal((await s.govern({ agent_id: 'bot', tool_id: 'ticket/read', args: { id: i } })).effect, 'PERMIT');
  await until('the sink to degrade', async () => (await status()).providers[0]!.status === 'DEGRADED', 20_000);
  assert.match((await status()).providers[0]!.last_error!, /^s3: .*reduce your request rate/);
  aws.s3Down = false;
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
});
