import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { alertTarget } from '../src/outbound/alerts.js';

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
