import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeStack, POLICY, until } from './daemon-helpers.js';
import { argsHash } from '@faramesh/audit';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A stand-in for the SIEMs and pagers: records every POST; paths in `failing` answer 503. */
async function receiver(): Promise<{ url: string; got: Received[]; failing: Set<string>; close(): void }> {
  const got: Received[] = [];
  const failing = new Set<string>();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const path = req.url ?? '';
      if ([...failing].some((f) => path.startsWith(f))) {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('down for maintenance');
        return;
      }
      got.push({ path, headers: req.headers, body });
      if (path.endsWith('/_bulk')) {
        const creates = body.split('\n').filter((l) => l.includes('"create"')).length;
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ errors: false, items: Array.from({ length: creates }, () => ({ create: { status: 201 } })) }));
      } else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got, failing, close: () => server.close() };
}

const policy = (url: string) => `runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
  trust_sdk_principal = true
}

provider "hook" {
  type  = "webhook-sink"
  url   = "${url}/hook"
  token = "s3cret"
}

provider "splunk" {
  type  = "splunk-sink"
  url   = "${url}"
  token = "hec-token"
  index = "faramesh"
}

provider "dd" {
  type    = "datadog-sink"
  api_key = "dd-key"
  url     = "${url}/dd"
}

provider "es" {
  type    = "elastic-sink"
  url     = "${url}/es"
  api_key = "es-key"
  index   = "decisions"
}

agent "bot" {
  default deny
  rules {
    permit ticket/read
    defer  stripe/refund reason "refunds need a human"
    deny!  stripe/payouts reason "platform team only"
  }
  redact ticket/read args: ["card"]
  alert {
    on     = "deny"
    notify = "slack://#sec-alerts"
  }
  alert {
    on     = "defer"
    notify = "pagerduty://routing-key-1"
  }
}
`;

const records = (got: Received[], path: string) =>
  got.filter((r) => r.path === path).flatMap((r) => (JSON.parse(r.body) as { records: Record<string, unknown>[] }).records);

test('audit sinks ship every durable record off the host in each wire format; alerts reach Slack and PagerDuty; a sink that is down degrades, retries and loses nothing, across a restart', async () => {
  const rx = await receiver();
  const s = makeStack(policy(rx.url), { FARAMESH_SLACK_WEBHOOK_URL: `${rx.url}/slack`, FARAMESH_PAGERDUTY_URL: `${rx.url}/pd` });
  try {
    assert.equal(s.cli('apply').code, 0);
    const permit = await s.govern({
      agent_id: 'bot',
      tool: 'ticket',
      operation: 'read',
      args: { id: 7, card: '4111 1111 1111 1111' },
      principal: { sub: 'u-1', email: 'ana@corp.example' },
    });
    const deny = await s.govern({ agent_id: 'bot', tool: 'stripe', operation: 'payouts', args: { amount: 9 } });
    const defer = await s.govern({ agent_id: 'bot', tool: 'stripe', operation: 'refund', args: { amount: 5 } });
    const ids = [permit, deny, defer].map((r) => r.action_id!.slice('action-'.length));

    await until('the webhook sink', () => ids.every((id) => records(rx.got, '/hook').some((r) => r.id === id)));
    const hook = rx.got.find((r) => r.path === '/hook')!;
    assert.equal(hook.headers.authorization, 'Bearer s3cret');
    const shipped = records(rx.got, '/hook').find((r) => r.id === ids[0])!;
    // The record as stored, with the redacted arguments beside it (the log holds only their hash).
    assert.equal(shipped.effect, 'permit');
    assert.match(String(shipped.args_hash), /^[0-9a-f]{64}$/);
    assert.deepEqual(shipped.args, { id: 7, card: '[REDACTED]' });
    // The principal's claims go to the sinks; the log keeps only their hash.
    assert.deepEqual(shipped.principal_claims, { sub: 'u-1', email: 'ana@corp.example' });
    assert.equal(shipped.principal_claims_hash, argsHash({ sub: 'u-1', email: 'ana@corp.example' }));

    await until('splunk, datadog and elastic', () =>
      ['/services/collector/event', '/dd', '/es/_bulk'].every((p) => rx.got.some((r) => r.path === p)),
    );
    const splunk = rx.got.filter((r) => r.path === '/services/collector/event');
    assert.equal(splunk[0]!.headers.authorization, 'Splunk hec-token');
    const hec = splunk.flatMap((r) =>
      r.body.split('\n').map((l) => JSON.parse(l) as { index: string; sourcetype: string; event: { id: string } }),
    );
    assert.ok(hec.every((e) => e.index === 'faramesh' && e.sourcetype === 'faramesh:dpr'));
    await until('every record in splunk', () =>
      ids.every((id) => rx.got.some((r) => r.path === '/services/collector/event' && r.body.includes(`"id":"${id}"`))),
    );
    const dd = rx.got.find((r) => r.path === '/dd')!;
    assert.equal(dd.headers['dd-api-key'], 'dd-key');
    const ddLogs = JSON.parse(dd.body) as { ddsource: string; message: string }[];
    assert.ok(ddLogs.every((l) => l.ddsource === 'faramesh' && typeof JSON.parse(l.message) === 'object'));
    const es = rx.got.find((r) => r.path === '/es/_bulk')!;
    assert.equal(es.headers.authorization, 'ApiKey es-key');
    assert.equal(es.headers['content-type'], 'application/x-ndjson');
    const [action, doc] = es.body.split('\n').map((l) => (l ? (JSON.parse(l) as Record<string, Record<string, unknown>>) : {}));
    assert.equal(action!.create!._index, 'decisions');
    assert.equal(action!.create!._id, (doc as Record<string, unknown>).id, 'the record id makes a resend harmless');

    // Alerts: the deny to Slack, the defer to PagerDuty, after the decisions were durable.
    await until('the alerts', () => rx.got.some((r) => r.path === '/slack') && rx.got.some((r) => r.path === '/pd'));
    const slack = JSON.parse(rx.got.find((r) => r.path === '/slack')!.body) as { channel: string; text: string };
    assert.equal(slack.channel, '#sec-alerts');
    assert.match(slack.text, /deny: bot stripe\/payouts → DENY \(POLICY_DENY\): platform team only/);
    const pd = JSON.parse(rx.got.find((r) => r.path === '/pd')!.body) as {
      routing_key: string;
      event_action: string;
      dedup_key: string;
      payload: unknown;
    };
    assert.equal(pd.routing_key, 'routing-key-1');
    assert.ok(!JSON.stringify(pd.payload).includes('routing-key-1'), 'the routing key is not in the incident');
    assert.equal(pd.event_action, 'trigger');
    assert.equal(pd.dedup_key, defer.action_id);

    type Status = { providers: { name: string; status: string; last_error?: string }[]; alerts: { sent: number } };
    const status = (): Status => JSON.parse(s.cli('status', '--format', 'json').stdout) as Status;
    assert.deepEqual(
      status().providers.map((p) => [p.name, p.status]),
      [
        ['hook', 'HEALTHY'],
        ['splunk', 'HEALTHY'],
        ['dd', 'HEALTHY'],
        ['es', 'HEALTHY'],
      ],
    );
    assert.equal(status().alerts.sent, 2);
    assert.equal(s.cli('status', '-q').code, 0);

    // The webhook goes down: the sink degrades (status exit 3) while decisions go on unhindered.
    rx.failing.add('/hook');
    const during = await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: { id: 8 } });
    assert.equal(during.effect, 'PERMIT');
    await until('the sink to degrade', () => status().providers.find((p) => p.name === 'hook')!.status === 'DEGRADED');
    assert.match(status().providers.find((p) => p.name === 'hook')!.last_error!, /^503 Service Unavailable: down for maintenance/);
    assert.equal(s.cli('status', '-q').code, 3);
    // Stopped while it is down, and more decisions after the restart.
    // (Without blocking this process: the daemon ships to the receiver it serves while it stops.)
    assert.equal((await s.cliAsync('apply', '--stop')).code, 0);
    rx.failing.clear();
    assert.equal((await s.cliAsync('apply')).code, 0);
    const after = await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: { id: 9 } });
    const missed = [during, after].map((r) => r.action_id!.slice('action-'.length));
    await until(
      'the missed records after the restart',
      () => missed.every((id) => records(rx.got, '/hook').some((r) => r.id === id)),
      20_000,
    );
    // Nothing lost between the first shipped record and the last: every seq is there.
    const seqs = [...new Set(records(rx.got, '/hook').map((r) => Number(r.seq)))].sort((a, b) => a - b);
    assert.deepEqual(
      seqs,
      Array.from({ length: seqs.at(-1)! - seqs[0]! + 1 }, (_, i) => seqs[0]! + i),
    );
    assert.ok(
      records(rx.got, '/hook').some((r) => r.type === 'daemon_stopped'),
      'the end of the first run shipped after the restart',
    );
  } finally {
    s.cli('apply', '--stop');
    s.stop();
    rx.close();
  }
});

test('a sink that cannot be configured refuses apply; an alert that cannot be delivered is only a warning', () => {
  const s = makeStack(
    policy('http://127.0.0.1:9')
      .replace('  token = "hec-token"\n', '')
      .replace('notify = "pagerduty://routing-key-1"', 'notify = "email://oncall@example.com"'),
  );
  const r = s.cli('apply');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /provider "splunk" \(splunk-sink\) needs token/);
  assert.match(r.stderr, /! alert not deliverable: notify 'email:\/\/oncall@example\.com' needs FARAMESH_SMTP_URL/);
  assert.match(r.stderr, /! alert not deliverable: notify 'slack:\/\/#sec-alerts' needs FARAMESH_SLACK_WEBHOOK_URL/);
  assert.equal(s.cli('status').code, 1, 'nothing started');
});

test('a sink whose saved position is not in the log (destroy --keep-state, then apply) ships the new log from its start', async () => {
  const s = makeStack(POLICY.replace('}\n\nagent "bot"', '}\n\nprovider "out" {\n  type = "stdout"\n}\n\nagent "bot"'));
  const log = () => readFileSync(join(s.dir, '.faramesh', 'runtime', 'daemon.log'), 'utf8');
  const sink = () =>
    (
      JSON.parse(s.cli('status', '--format', 'json').stdout) as { providers: { name: string; status: string; shipped: number }[] }
    ).providers.find((p) => p.name === 'out');
  try {
    assert.equal(s.cli('apply').code, 0);
    for (let i = 0; i < 5; i++) await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: { i } });
    await until('the first log shipped', () => (sink()?.shipped ?? 0) >= 5);
    assert.equal(s.cli('destroy', '--yes', '--keep-state').code, 0);
    assert.ok(existsSync(join(s.dir, '.faramesh', 'governance.compiled.json')), '--keep-state keeps the compiled artifacts');
    assert.equal(s.cli('apply').code, 0);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: { i } })).action_id!);
    await until('the new log shipped', () => ids.every((id) => log().includes(id.slice('action-'.length))));
    assert.match(log(), /sink out: its saved position is not in this log \(the log was replaced\): shipping this log from its start/);
    assert.equal(sink()?.status, 'HEALTHY');
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});
