import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressClass } from '../src/index.js';
import { agent, outcome, policy, Session } from './support.js';

test('addressClass: loopback, private, link-local, metadata, mapped and NAT64 IPv4, IPv6 ranges; public is undefined', () => {
  const cases: [string, string | undefined][] = [
    ['127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', undefined],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local or metadata'],
    ['100.64.0.1', 'shared (CGNAT)'],
    ['0.0.0.0', 'unspecified'],
    ['8.8.8.8', undefined],
    // The documentation nets (RFC 5737, 3849) are not globally reachable: here they are someone's LAN.
    ['192.0.2.2', 'documentation (reserved)'],
    ['198.51.100.7', 'documentation (reserved)'],
    ['203.0.113.9', 'documentation (reserved)'],
    ['::ffff:192.0.2.1', 'documentation (reserved)'],
    ['2001:db8::1', 'documentation (reserved)'],
    ['192.0.3.1', undefined],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['64:ff9b::10.0.0.1', 'private'],
    // The same IPv4 addresses however the IPv6 around them is written (the URL parser writes hex).
    ['::ffff:7f00:1', 'loopback'],
    ['[::ffff:7f00:1]', 'loopback'],
    ['::FFFF:a9fe:a9fe', 'link-local or metadata'],
    ['0:0:0:0:0:ffff:a00:1', 'private'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['64:ff9b:0:0:0:0:a9fe:a9fe', 'link-local or metadata'],
    ['64:ff9b::808:808', undefined],
    ['64:ff9b:1::a00:1', 'special-purpose'],
    ['::127.0.0.1', 'loopback'],
    ['::7f00:1', 'loopback'],
    ['2002:7f00:1::1', 'loopback'],
    ['2002:c0a8:101::', 'private'],
    ['2002:808:808::1', undefined],
    ['::ffff:8.8.8.8', undefined],
    ['fe80::1%eth0', 'link-local'],
    ['::', 'unspecified'],
    ['fd00:ec2::254', 'private (unique local)'],
    ['fe80::1', 'link-local'],
    ['2606:4700:4700::1111', undefined],
    ['not-an-ip', undefined],
  ];
  for (const [ip, kind] of cases) assert.equal(addressClass(ip), kind, ip);
});

test('the SSRF guard: a proxied host resolving to a private address is EGRESS_DENIED unless egress allow names it exactly', () => {
  const p = policy(
    agent('  rules {\n    permit http/*\n  }\n  egress {\n    allow = ["internal.example", "*.corp.example", "api.example.com"]\n  }'),
  );
  const call = (host: string, addresses: string[]) =>
    new Session(p).call({ tool: 'http/get', http: { host, method: 'GET', path: '/', addresses } });
  assert.equal(outcome(call('api.example.com', ['93.184.216.34'])), 'PERMIT');
  assert.equal(outcome(call('internal.example', ['10.0.0.5'])), 'PERMIT', 'named exactly');
  assert.equal(outcome(call('db.corp.example', ['93.184.216.34'])), 'PERMIT');
  assert.equal(
    outcome(call('db.corp.example', ['10.0.0.9'])),
    'DENY/EGRESS_DENIED',
    'a wildcard does not name it (DNS pointing a name inside)',
  );
  assert.match(String(call('db.corp.example', ['10.0.0.9']).human_message), /resolves to a private address \(10\.0\.0\.9\)/);
  assert.equal(outcome(call('db.corp.example', ['93.184.216.34', '127.0.0.1'])), 'DENY/EGRESS_DENIED', 'any address of the set');
  const open = policy(agent('  rules {\n    permit http/*\n  }'));
  assert.equal(
    outcome(new Session(open).call({ tool: 'http/get', http: { host: 'metadata', addresses: ['169.254.169.254'] } })),
    'DENY/EGRESS_DENIED',
  );
  // A public address on this machine's own interface reaches the host itself, as 127.0.0.1 does.
  const own = (host: string, pp = open) =>
    new Session(pp).call({ tool: 'http/get', http: { host, addresses: ['93.184.216.34'], own_addresses: ['93.184.216.34'] } });
  assert.equal(outcome(own('93.184.216.34')), 'DENY/EGRESS_DENIED');
  assert.match(String(own('93.184.216.34').human_message), /resolves to a local-interface address \(93\.184\.216\.34\)/);
  assert.equal(outcome(own('api.example.com', p)), 'PERMIT', 'named exactly in egress allow');
});
