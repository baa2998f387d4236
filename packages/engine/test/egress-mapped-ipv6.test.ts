import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { normaliseHost } from '../src/index.js';
import { agent, outcome, policy, Session } from './support.js';

// A socket to `[::ffff:1.2.3.4]` reaches 1.2.3.4. The destination was read as `[::ffff:102:304]`,
// which a deny of `1.2.3.4` never met: the proxy's SSRF guard judges the address it carries, but only
// for private ones, and a tool call's arguments go through no guard at all.
describe('an IPv4-mapped IPv6 destination', () => {
  const call = (deny: string, allow: string, url: string) => {
    const egress = `  egress {\n    deny = [${deny}]\n    allow = [${allow}]\n  }`;
    return outcome(new Session(policy(agent(`  rules {\n    permit **\n  }\n${egress}`))).call({ tool: 'http/get', args: { url } }));
  };

  for (const url of ['http://[::ffff:1.2.3.4]/x', 'http://[0:0:0:0:0:ffff:0102:0304]', 'https://[::FFFF:1.2.3.4]:8443'])
    test(`${url} meets a deny of the IPv4 address`, () => assert.equal(call('"1.2.3.4"', '', url), 'DENY/EGRESS_DENIED'));

  test('a deny written as the mapped address meets the IPv4 address', () =>
    assert.equal(call('"::ffff:1.2.3.4"', '', 'http://1.2.3.4/'), 'DENY/EGRESS_DENIED'));
  test('an allow of either spelling admits the other', () => {
    assert.equal(call('', '"1.2.3.4"', 'http://[::ffff:1.2.3.4]/'), 'PERMIT');
    assert.equal(call('', '"[::ffff:1.2.3.4]"', 'http://1.2.3.4/'), 'PERMIT');
  });
  test('is read as its IPv4 address, and other IPv6 addresses are not', () => {
    assert.equal(normaliseHost('http://[::ffff:127.0.0.1]/'), '127.0.0.1');
    assert.equal(normaliseHost('::ffff:a9fe:a9fe'), '169.254.169.254');
    assert.equal(normaliseHost('http://[64:ff9b::102:304]/'), '[64:ff9b::102:304]');
    assert.equal(normaliseHost('http://[::1]/'), '[::1]');
  });
});
