import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deliver, post } from '../src/outbound/deliver.js';
import { sinkFormat } from '../src/outbound/sink-formats.js';

const event = { id: 'a', seq: 1, type: 'decision', time: new Date().toISOString() };

test('a sink URL with user:password@ is refused at apply, and its password is in no message', () => {
  assert.throws(
    () =>
      sinkFormat(
        { name: 'es', type: 'elastic-sink', ref: 'provider.es', fields: { url: 'http://elastic:hunter2-PASSWORD@127.0.0.1:9200' } },
        {},
      ),
    (e: Error) => /user name or password/.test(e.message) && !e.message.includes('hunter2'),
  );
});

test('a delivery error never quotes the target URL or a header value (a password, a webhook key, an API key)', async () => {
  // Built by hand: what apply refused above, and what an alert target or env URL could still hold.
  const format = {
    name: 'es',
    type: 'elastic-sink',
    request: () => ({ url: 'http://elastic:hunter2-PASSWORD@127.0.0.1:1/_bulk', headers: {}, body: '' }),
  };
  const error = await deliver(format, [event]);
  assert.ok(error, 'not delivered');
  assert.ok(!error.includes('hunter2'), `the password leaked: ${error}`);
  const slack = await post('hooks.slack.com/services/T0/B0/SLACKSECRET', {}, '{}');
  assert.ok(slack && !slack.includes('SLACKSECRET'), `the webhook key leaked: ${slack}`);
  const header = await post('http://127.0.0.1:1/x', { authorization: 'Bearer SEKRET-TOKEN\nX' }, '{}');
  assert.ok(header && !header.includes('SEKRET-TOKEN'), `the token leaked: ${header}`);
});
