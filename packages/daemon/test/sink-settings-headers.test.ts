/**
 * A sink whose URL or headers fetch would refuse is refused when it is configured (apply, start),
 * with an error naming the field and never its value (a credential): accepted, it failed every
 * delivery and stayed DEGRADED for good.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IRValue } from '@faramesh/fpl/runtime';
import { sinkFormat } from '../src/outbound/sink-formats.js';
import { SettingsError } from '../src/stack/settings.js';

const cases: [string, string, Record<string, IRValue>, RegExp][] = [
  [
    'a header name with a space',
    'webhook-sink',
    { url: 'https://siem.example/in', headers: { 'X-Api Key': 'k-1234' } },
    /headers\.X-Api Key: 'X-Api Key' is not a valid HTTP header name/,
  ],
  [
    'a header value with a line break',
    'webhook-sink',
    { url: 'https://siem.example/in', headers: { 'x-key': 'sek\r\nX-Evil: 1' } },
    /headers\.x-key cannot be sent in an HTTP header/,
  ],
  [
    'a token with a line break inside',
    'splunk-sink',
    { url: 'https://splunk.example:8088', token: 'hec-abc\nhec-def' },
    /\.token cannot be sent in an HTTP header/,
  ],
  ['an API key past Latin-1', 'datadog-sink', { api_key: 'dd-key-€uro' }, /\.api_key cannot be sent in an HTTP header/],
  [
    'an API key past Latin-1',
    'elastic-sink',
    { url: 'https://es.example:9200', api_key: 'es-key-€uro' },
    /\.api_key cannot be sent in an HTTP header/,
  ],
  ['a URL whose host has a space', 'elastic-sink', { url: 'https://es example:9200' }, /\.url is not a valid URL/],
  ['a site that is not a host name', 'datadog-sink', { api_key: 'dd-key', site: 'datadog hq.com' }, /\.site is not a host name/],
];

for (const [what, type, fields, message] of cases)
  test(`${type}: ${what} is refused when configured, without showing the value`, () => {
    assert.throws(
      () => sinkFormat({ name: 'siem', type, ref: 'provider.siem', fields }, {}),
      (e: Error) => {
        assert.ok(e instanceof SettingsError, `not a SettingsError: ${e.message}`);
        assert.match(e.message, message);
        for (const v of Object.values(fields).flatMap((f) => (typeof f === 'object' && f ? Object.values(f) : [f])))
          if (typeof v === 'string' && !/^https?:/.test(v) && v !== 'datadog hq.com')
            assert.ok(!e.message.includes(v), `the error shows ${v}`);
        return true;
      },
    );
  });

test('headers fetch takes are still accepted', () => {
  const f = sinkFormat(
    {
      name: 'siem',
      type: 'webhook-sink',
      ref: 'provider.siem',
      fields: { url: 'https://siem.example/in', token: 'tok-1', headers: { 'X-Tenant': 'café' } },
    },
    {},
  );
  assert.equal(f.request!([]).headers['x-tenant'], 'café');
});
