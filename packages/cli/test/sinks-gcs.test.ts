/**
 * The gcs-sink with the official client (@google-cloud/storage) against a fake Cloud Storage over
 * TLS that checks the service account's signed token and answers with the object's CRC32C: records land
 * as hourly NDJSON objects; an outage degrades the sink without slowing decisions, and once the
 * bucket is back every record lands, none twice.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeGcp } from './fake-gcp.js';
import { makeStack, until, type Stack } from './daemon-helpers.js';

const gcp = new FakeGcp(mkdtempSync(join(tmpdir(), 'fm-gcs-')));
let s: Stack;

before(async () => {
  await gcp.start();
  s = makeStack(
    `runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
}

provider "archive" {
  type     = "gcs-sink"
  project  = "test-project"
  bucket   = "audit-archive"
  prefix   = "decisions"
  endpoint = "${gcp.url}"
}

agent "bot" {
  default deny
  rules {
    permit ticket/read
  }
  redact ticket/read args: ["card"]
}
`,
    { GOOGLE_APPLICATION_CREDENTIALS: gcp.credentialsFile, NODE_EXTRA_CA_CERTS: gcp.caFile },
  );
  const applied = await s.cliAsync('apply');
  assert.equal(applied.code, 0, applied.stderr);
});
after(async () => {
  await s.cliAsync('apply', '--stop');
  gcp.stop();
});

type Status = { providers: { name: string; status: string; shipped: number; last_error?: string }[] };
const status = async (): Promise<Status> => JSON.parse((await s.cliAsync('status', '--format', 'json')).stdout) as Status;
const shipped = () =>
  [...gcp.objects.entries()].flatMap(([key, o]) =>
    o.body
      .trimEnd()
      .split('\n')
      .map((l) => ({ key, record: JSON.parse(l) as { seq: number; type: string; time: string; args?: Record<string, unknown> } })),
  );

test('records land as hourly NDJSON objects; an outage degrades the sink, then every record lands once', async () => {
  for (let i = 0; i < 3; i++)
    assert.equal((await s.govern({ agent_id: 'bot', tool_id: 'ticket/read', args: { id: i, card: '4111111111111111' } })).effect, 'PERMIT');
  await until('the first objects', () => shipped().some((x) => x.record.type === 'decision'), 20_000);
  const [key, object] = [...gcp.objects.entries()][0]!;
  assert.match(key, /^audit-archive\/decisions\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/\d{12}-\d{12}\.ndjson$/);
  assert.equal(object.contentType, 'application/x-ndjson');
  assert.ok(
    gcp.calls.filter((c) => c.path.startsWith('/upload/')).every((c) => c.authorized),
    'every upload carried a token the service account signed',
  );
  assert.equal(shipped().find((x) => x.record.type === 'decision')!.record.args?.card, '[REDACTED]', 'arguments ship redacted');

  gcp.storageDown = true;
  for (let i = 3; i < 6; i++) assert.equal((await s.govern({ agent_id: 'bot', tool_id: 'ticket/read', args: { id: i } })).effect, 'PERMIT');
  await until('the sink to degrade', async () => (await status()).providers[0]!.status === 'DEGRADED', 20_000);
  assert.match((await status()).providers[0]!.last_error!, /^gcs: /);
  gcp.storageDown = false;
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
