import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { normaliseHost } from '../src/index.js';
import { agent, outcome, policy, Session } from './support.js';

// fetch('https:/evil.com') and curl 'https:/evil.com' both connect to evil.com. Read with an
// `http://` prefix, the destination's host was `https`, so a deny list never saw evil.com.
describe('a special scheme without its two slashes', () => {
  const p = policy(agent('  rules {\n    permit **\n  }\n  egress {\n    deny = ["evil.com", "169.254.169.254"]\n  }'));
  const call = (url: string) => outcome(new Session(p).call({ tool: 'http/get', args: { url } }));

  for (const url of [
    'https:/evil.com/x',
    'HTTPS:/EVIL.com',
    'http:/169.254.169.254/latest/meta-data',
    'ws:/evil.com',
    'https:/\\evil.com',
    'https:evil.com',
    // The URL parser drops tabs and newlines anywhere, so these are `https:/evil.com` too.
    'ht\ttps:/evil.com',
    'https:/\n/evil.com',
    'https:\t//evil.com',
    // Empty labels: one trailing dot is the root (evil.com. is evil.com), more names no host.
    'https://evil.com./x',
    'https://evil.com../x',
    'https://.evil.com/x',
    'https://evil..com/x',
  ])
    test(JSON.stringify(url), () => assert.equal(call(url), 'DENY/EGRESS_DENIED'));

  test('names no host', () => assert.equal(normaliseHost('https:/evil.com'), ''));
  test('a well-formed URL and a bare host with a port are read as before', () => {
    assert.equal(normaliseHost('https://Good.com/x'), 'good.com');
    assert.equal(normaliseHost('https:///good.com/x'), 'good.com');
    assert.equal(normaliseHost('good.com:8443'), 'good.com');
    assert.equal(normaliseHost('localhost:8080'), 'localhost');
    assert.equal(call('https://good.com/x'), 'PERMIT');
  });
});
