import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Alerts, alertTarget, shownTarget } from '../src/outbound/alerts.js';

test('a Slack alert escapes what the agent named, so a tool id cannot mention @channel or disguise a link', async () => {
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      bodies.push(body);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const target = alertTarget('slack://#sec', { FARAMESH_SLACK_WEBHOOK_URL: url });
    const error = await target.deliver({
      on: 'deny',
      notify: 'slack://#sec',
      agent_id: 'bot',
      tool: 'ticket/<!channel> <https://evil.example/ok|Approve> & more',
      effect: 'deny',
      code: 'POLICY_DENY',
      action_id: 'action-1',
      time: new Date().toISOString(),
      policy_version: 'v',
    });
    assert.equal(error, undefined);
    const { text } = JSON.parse(bodies[0]!) as { text: string };
    assert.doesNotMatch(text, /[<>]/, text);
    assert.match(text, /ticket\/&lt;!channel&gt; &lt;https:\/\/evil\.example\/ok\|Approve&gt; &amp; more/);
  } finally {
    server.close();
  }
});

test('an alert that cannot be delivered is logged without the credential its target holds', async () => {
  const server = createServer((_req, res) => void res.writeHead(503).end('down'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const lines: string[] = [];
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const alerts = new Alerts({ FARAMESH_PAGERDUTY_URL: `${url}/pd` }, (l) => lines.push(l));
    const subject = {
      agent_id: 'bot',
      tool: 'x',
      effect: 'deny',
      action_id: 'action-1',
      time: new Date().toISOString(),
      policy_version: 'v',
    };
    alerts.fire(
      [
        { on: 'deny', notify: 'pagerduty://PDROUTINGKEY0123456789' },
        { on: 'deny', notify: 'slack://127.0.0.1:1/services/T0/B0/SLACKSECRET' },
        { on: 'deny', notify: 'webhook://127.0.0.1:1/hook?token=HOOKSECRET' },
      ],
      subject,
    );
    const deadline = Date.now() + 20_000;
    while (alerts.counts.failed < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(alerts.counts.failed, 3, lines.join('\n'));
    const log = lines.join('\n');
    assert.doesNotMatch(log, /PDROUTINGKEY|SLACKSECRET|HOOKSECRET/, log);
    assert.match(log, /pagerduty:\/\/…6789/);
    assert.match(log, /slack:\/\/127\.0\.0\.1:1\/…/);
  } finally {
    server.close();
  }
});

test('a notify target is shown by what names it, never by its credential', () => {
  assert.equal(shownTarget('pagerduty://R0123456789abcdef'), 'pagerduty://…cdef');
  assert.equal(shownTarget('slack://#sec'), 'slack://#sec');
  assert.equal(shownTarget('slack://hooks.slack.com/services/T/B/K'), 'slack://hooks.slack.com/…');
  assert.equal(shownTarget('webhook://u:p@hooks.example/x?t=1'), 'webhook://hooks.example/…');
  assert.equal(shownTarget('email://ops@example.com'), 'email://ops@example.com');
});

test('alerts dropped past the queue bound are said in the daemon log, once a spell', async () => {
  let seen = 0;
  const server = createServer(() => void seen++); // never answers
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const lines: string[] = [];
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const alerts = new Alerts({ FARAMESH_PAGERDUTY_URL: `${url}/pd` }, (l) => lines.push(l));
    const subject = { agent_id: 'bot', tool: 'x', effect: 'deny', time: new Date().toISOString(), policy_version: 'v' };
    for (let i = 0; i < 1010; i++) alerts.fire([{ on: 'deny', notify: 'pagerduty://k' }], { ...subject, action_id: `action-${i}` });
    assert.equal(alerts.counts.dropped, 10);
    const said = lines.filter((l) => /dropped/.test(l));
    assert.equal(said.length, 1, lines.join('\n'));
    assert.match(said[0]!, /alert deny for action-1000 dropped: 1000 alerts are waiting or in flight/);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
