import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { normaliseHost } from '../src/index.js';
import { agent, outcome, policy, Session } from './support.js';

// For a scheme the URL standard does not know, the parser keeps the host as written: `redis://127.1`
// named the host `127.1`, which a deny of 127.0.0.1 never met, while the redis client's resolver
// connects to 127.0.0.1.
describe('the host of a URL in a scheme the URL parser does not know', () => {
  const p = policy(agent('  rules {\n    permit **\n  }\n  egress {\n    deny = ["127.0.0.1", "evil.com"]\n  }'));
  const call = (url: string) => outcome(new Session(p).call({ tool: 'db/query', args: { url } }));

  for (const url of [
    'redis://127.1:6379',
    'postgres://user:pw@0x7f000001/db',
    'mongodb://2130706433:27017',
    'amqp://0177.0.0.1',
    'ssh://ＥＶＩＬ.com',
    'git+ssh://EVIL.com./repo.git',
  ])
    test(JSON.stringify(url), () => assert.equal(call(url), 'DENY/EGRESS_DENIED'));

  test('is read as a resolver reads it', () => {
    assert.equal(normaliseHost('redis://127.1:6379'), '127.0.0.1');
    assert.equal(normaliseHost('ssh://Bücher.example/x'), 'xn--bcher-kva.example');
    assert.equal(normaliseHost('postgres://db.internal:5432/app'), 'db.internal');
    assert.equal(normaliseHost('foo://a%20b/'), '', 'a space is in no host name');
    assert.equal(call('redis://cache.example.com:6379'), 'PERMIT');
  });
});
