import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { agent, outcome, policy, Session } from './support.js';

/** [condition, args (or request extras), expected truth: 'T' matches, 'F'/'U' do not] */
type Row = [string, Record<string, unknown>, 'T' | 'F' | 'U'];

const rows: Row[] = [
  ['amount < $500', { amount: 80 }, 'T'],
  ['amount < $500', { amount: 500 }, 'F'],
  ['amount < $500', {}, 'U'],
  ['amount < $500', { amount: '80' }, 'U'],
  ['amount < 10.5', { amount: 10.25 }, 'T'],
  ['amount >= 1e3', { amount: 1000 }, 'T'],
  ['name < "m"', { name: 'alice' }, 'T'],
  ['x == nil', {}, 'T'],
  ['x == nil', { x: null }, 'T'],
  ['x == nil', { x: 0 }, 'F'],
  ['x != nil', {}, 'F'],
  ['x != nil', { x: 'a' }, 'T'],
  ['x != nil', { x: null }, 'F'],
  // A null field reads as a missing one: a tool may take it as its default.
  ['user != "root"', { user: null }, 'U'],
  ['user != "root"', {}, 'U'],
  ['role in ["ops"]', { role: null }, 'U'],
  ['not (role in ["ops"])', { role: null }, 'U'],
  ['x == 5', { x: '5' }, 'U'],
  ['x != 5', { x: '5' }, 'U'],
  ['x != 5', {}, 'U'],
  ['x == [1, 2]', { x: [1, 2] }, 'T'],
  ['x == true', { x: true }, 'T'],
  ['currency in ["USD", "EUR"]', { currency: 'EUR' }, 'T'],
  ['currency in ["USD", "EUR"]', { currency: 'GBP' }, 'F'],
  ['currency in ["USD", "EUR"]', {}, 'U'],
  ['currency in ["USD", "EUR"]', { currency: 5 }, 'U'],
  ['labels contains "ops"', { labels: ['dev', 'ops'] }, 'T'],
  ['labels contains "ops"', { labels: ['dev'] }, 'F'],
  ['body contains "secret"', { body: 'top secret' }, 'T'],
  ['body contains "secret"', { body: 42 }, 'U'],
  ['to matches "@example\\\\.com$"', { to: 'a@example.com' }, 'T'],
  ['to matches "@example\\\\.com$"', { to: 'a@example.com.evil' }, 'F'],
  ['to matches "example"', { to: 'xx-example-xx' }, 'T'],
  ['to matches "^x"', { to: 5 }, 'U'],
  ['cmd matches "(?i)\\\\bDROP\\\\b"', { cmd: 'please drop table' }, 'T'],
  ['path startsWith "./drafts/"', { path: './drafts/a.md' }, 'T'],
  ['path endsWith ".md"', { path: './drafts/a.txt' }, 'F'],
  ['args.card.number == "4242"', { card: { number: '4242' } }, 'T'],
  ['args.items.0.sku == "a"', { items: [{ sku: 'a' }] }, 'T'],
  ['a == 1 and b == 2', { a: 1, b: 2 }, 'T'],
  ['a == 1 and b == 2', { a: 1 }, 'U'],
  ['a == 1 and b == 2', { a: 2 }, 'F'],
  ['a == 1 or b == 2', { b: 2 }, 'T'],
  ['a == 1 or b == 2', {}, 'U'],
  ['not a == 1', { a: 2 }, 'T'],
  ['not a == 1', {}, 'U'],
  ['not (a == 1 and b == 2)', { a: 2 }, 'T'],
  ['x not in [1, 2]', { x: 3 }, 'T'],
  ['flag', { flag: true }, 'T'],
  ['flag', { flag: 'yes' }, 'U'],
];

describe('conditions are total and three-valued', () => {
  for (const [cond, args, expected] of rows) {
    test(`${cond} with ${JSON.stringify(args)} → ${expected}`, () => {
      const s = new Session(policy(agent(`  rules {\n    permit t if ${cond}\n  }`)));
      assert.equal(outcome(s.call({ tool: 't', args })), expected === 'T' ? 'PERMIT' : 'DENY/POLICY_DENY');
    });
  }
});

test('a missing field falls through to later rules, never matching by accident', () => {
  const s = new Session(policy(agent('  rules {\n    deny t if amount > 100\n    permit t if amount <= 100\n    defer t\n  }')));
  assert.equal(outcome(s.call({ tool: 't', args: {} })), 'DEFER/POLICY_DEFER');
});

describe('request variables', () => {
  const p = policy(
    agent(
      '  rules {\n    permit a if tool == "a" and agent == "bot"\n    permit b if model == "m1"\n    permit c if principal.groups contains "ops"\n    permit d if time.hour >= 9 and time.weekday == 7\n    permit e if host == "api.x.com" and method == "GET" and path == "/v1"\n    permit f if query.limit == "10" and headers.x-team == "red"\n    permit g if session.id == "s1"\n    permit h if action == "read"\n    permit i if tags contains "vip"\n  }',
    ),
  );
  const s = new Session(p); // 2026-05-17 10:00 UTC is a Sunday
  test('tool and agent', () => assert.equal(s.call({ tool: 'a' }).effect, 'PERMIT'));
  test('model', () => assert.equal(s.call({ tool: 'b', model: 'm1' }).effect, 'PERMIT'));
  test('principal claims', () => assert.equal(s.call({ tool: 'c', principal: { groups: ['ops'] } }).effect, 'PERMIT'));
  test('time in UTC, weekday 1–7', () => assert.equal(s.call({ tool: 'd' }).effect, 'PERMIT'));
  test('HTTP fields', () => assert.equal(s.call({ tool: 'e', http: { host: 'api.x.com', method: 'GET', path: '/v1' } }).effect, 'PERMIT'));
  test('method is compared in upper case, as the method clause compares it: an argument or a literal in other letters is the same method', () => {
    const m = new Session(
      policy(
        agent(
          '  rules {\n    deny api/a if method == "DELETE"\n    deny api/b if method in ["delete", "Put"]\n    deny api/c if method matches "^del"\n    permit api/*\n  }',
        ),
      ),
    );
    for (const tool of ['api/a', 'api/b', 'api/c']) {
      assert.equal(m.call({ tool, args: { method: 'delete' } }).effect, 'DENY', `${tool}, an argument`);
      assert.equal(m.call({ tool, http: { host: 'x.com', method: 'DELETE', path: '/' } }).effect, 'DENY', `${tool}, HTTP`);
      assert.equal(m.call({ tool, args: { method: 'get' } }).effect, 'PERMIT', `${tool}, another method`);
    }
  });
  test('host is compared as egress compares it: letter case, a trailing dot and IDNA make no other host', () => {
    for (const host of ['API.X.COM', 'api.x.com.', 'Api.X.Com.'])
      assert.equal(s.call({ tool: 'e', http: { host, method: 'GET', path: '/v1' } }).effect, 'PERMIT', host);
    const d = new Session(policy(agent('  rules {\n    deny http/get if host == "localhost"\n    permit http/get\n  }')));
    for (const host of ['localhost', 'LOCALHOST', 'localhost.', 'LocalHost.'])
      assert.equal(d.call({ tool: 'http/get', http: { host, method: 'GET', path: '/' } }).effect, 'DENY', host);
    const v6 = new Session(policy(agent('  rules {\n    deny http/connect if host == "[::1]"\n    permit http/connect\n  }')));
    assert.equal(v6.call({ tool: 'http/connect', http: { host: '::1', method: 'CONNECT' } }).effect, 'DENY');
    assert.equal(v6.call({ tool: 'http/connect', args: { host: '0:0::1' } }).effect, 'DENY', 'an argument too');
    // The policy's literals are read the same way: written in capitals or with a trailing dot, they
    // still name the host (a deny that silently never matched would fail open).
    const written = new Session(
      policy(
        agent(
          '  rules {\n    deny net/fetch if host == "Metadata.Google.Internal."\n    deny net/fetch if host in ["API.Example.COM", "::1"]\n    deny net/fetch if host endsWith ".Corp.Example"\n    permit net/fetch\n  }',
        ),
      ),
    );
    for (const host of ['metadata.google.internal', 'api.example.com', '[::1]', 'db.corp.example'])
      assert.equal(written.call({ tool: 'net/fetch', args: { host } }).effect, 'DENY', host);
    assert.equal(written.call({ tool: 'net/fetch', args: { host: 'example.org' } }).effect, 'PERMIT');
    const parts = new Session(
      policy(
        agent(
          '  rules {\n    deny net/fetch if host endsWith ".bücher.example"\n    deny net/fetch if host endsWith ".Internal."\n    deny net/fetch if "Metadata.Google.Internal." == host\n    deny net/fetch if host startsWith "Admin."\n    permit net/fetch\n  }',
        ),
      ),
    );
    for (const host of ['shop.bücher.example', 'shop.xn--bcher-kva.example', 'metadata.google.internal', 'db.internal', 'admin.x.com'])
      assert.equal(parts.call({ tool: 'net/fetch', args: { host } }).effect, 'DENY', host);
    assert.equal(parts.call({ tool: 'net/fetch', args: { host: 'example.org' } }).effect, 'PERMIT');
    // Parts of an address are not addresses: "10." is a prefix, not the IPv4 address 0.0.0.10, and a
    // regex is a regex. Read as hosts, these denies never matched the addresses they name.
    const ranges = new Session(
      policy(
        agent(
          '  rules {\n    deny net/fetch if host startsWith "10."\n    deny net/fetch if host startsWith "192.168."\n    deny net/fetch if host contains "169.254"\n    deny net/fetch if host matches "^127\\\\.|Metadata"\n    deny net/fetch if host matches "bücher"\n    permit net/fetch\n  }',
        ),
      ),
    );
    for (const host of ['10.1.2.3', '192.168.1.10', '169.254.169.254', '127.0.0.1', 'metadata.google.internal', 'shop.bücher.example'])
      assert.equal(ranges.call({ tool: 'net/fetch', args: { host } }).effect, 'DENY', host);
    assert.equal(ranges.call({ tool: 'net/fetch', http: { host: '192.168.0.1', method: 'GET', path: '/' } }).effect, 'DENY');
    assert.equal(ranges.call({ tool: 'net/fetch', args: { host: '11.0.0.10' } }).effect, 'PERMIT');
    // A regex naming an IDN host with regex syntax around the name (an escaped dot, anchors, groups).
    for (const re of ['bücher\\\\.example', '^shop\\\\.bücher\\\\.', '(bücher|bucher)\\\\.example$', 'BÜCHER']) {
      const s2 = new Session(policy(agent(`  rules {\n    deny net/fetch if host matches "${re}"\n    permit net/fetch\n  }`)));
      assert.equal(s2.call({ tool: 'net/fetch', args: { host: 'shop.bücher.example' } }).effect, 'DENY', re);
      assert.equal(s2.call({ tool: 'net/fetch', args: { host: 'shop.other.example' } }).effect, 'PERMIT', re);
    }
  });
  test('bare HTTP names fall back to arguments', () =>
    assert.equal(s.call({ tool: 'e', args: { host: 'api.x.com', method: 'GET', path: '/v1' } }).effect, 'PERMIT'));
  test('query and case-insensitive headers', () =>
    assert.equal(s.call({ tool: 'f', http: { query: { limit: '10' }, headers: { 'X-Team': 'red' } } }).effect, 'PERMIT'));
  test('session id', () => assert.equal(s.call({ tool: 'g', session_id: 's1' }).effect, 'PERMIT'));
  test('action', () => assert.equal(s.call({ tool: 'h', action: 'read' }).effect, 'PERMIT'));
  test("tags are the caller's, never an argument of that name", () => {
    assert.equal(s.call({ tool: 'i', tags: ['ops', 'vip'] }).effect, 'PERMIT');
    assert.equal(s.call({ tool: 'i', tags: ['ops'] }).effect, 'DENY');
    assert.equal(s.call({ tool: 'i', args: { tags: ['vip'] } }).effect, 'DENY');
    assert.equal(s.call({ tool: 'i', args: { tags: ['vip'] }, tags: [] }).effect, 'DENY');
  });
  test('conditions see original, not redacted, arguments', () => {
    const r = new Session(policy(agent('  rules {\n    permit pay if card == "4242"\n  }\n  redact pay args: ["card"]')));
    const d = r.call({ tool: 'pay', args: { card: '4242' } });
    assert.equal(d.effect, 'PERMIT');
    assert.deepEqual(d.redacted_args, { card: '[REDACTED]' });
  });
});

test('regex matching is linear time on hostile input', () => {
  const s = new Session(policy(agent('  rules {\n    permit t if x matches "(a+)+$"\n  }')));
  const started = process.hrtime.bigint();
  assert.equal(s.call({ tool: 't', args: { x: 'a'.repeat(50_000) + '!' } }).effect, 'DENY');
  assert.ok(process.hrtime.bigint() - started < 2_000_000_000n, 'no catastrophic backtracking');
});

describe('a deny or defer is not skipped because an argument came as another type', () => {
  const rows: [string, Record<string, unknown>, string][] = [
    ['deny t if amount > $500', { amount: 600 }, 'DENY/POLICY_DENY'],
    ['deny t if amount > $500', { amount: 100 }, 'PERMIT'],
    ['deny t if amount > $500', { amount: '600' }, 'DENY/POLICY_DENY'],
    ['deny t if amount > $500', { amount: '100' }, 'DENY/POLICY_DENY'],
    ['deny t if amount > $500', { amount: { value: 600 } }, 'DENY/POLICY_DENY'],
    // Missing (or null) is not a type: the rule falls through as before.
    ['deny t if amount > $500', {}, 'PERMIT'],
    ['deny t if amount > $500', { amount: null }, 'PERMIT'],
    ['deny t if not amount <= $500', { amount: '600' }, 'DENY/POLICY_DENY'],
    ['deny t if to matches "^x"', { to: 5 }, 'DENY/POLICY_DENY'],
    ['deny t if body contains "secret"', { body: { a: 'secret' } }, 'DENY/POLICY_DENY'],
    ['deny t if currency in ["USD", "EUR"]', { currency: 5 }, 'DENY/POLICY_DENY'],
    ['deny t if flag', { flag: 'yes' }, 'DENY/POLICY_DENY'],
    ['defer t if x == 5', { x: '5' }, 'DEFER/POLICY_DEFER'],
    // A part that is definitely false settles it: the deny does not apply whatever the other part.
    ['deny t if a == 1 and b == 2', { a: '1', b: 3 }, 'PERMIT'],
    ['deny t if a == 1 or b == 2', { a: '1', b: 2 }, 'DENY/POLICY_DENY'],
    // A mismatch in an operand the rest overrode is not why the condition is unknown: a missing `b` is.
    ['deny t if (n == "x" or n == 5) and b > 3', { n: 5 }, 'PERMIT'],
    ['deny t if b > 3 and (kind == "bulk" or kind == 1)', { kind: 1 }, 'PERMIT'],
    ['deny t if b > 3 and not (n == "x" and n == 6)', { n: 5 }, 'PERMIT'],
    ['deny t if (n == "x" or n == 5) and b > 3', { n: 6 }, 'DENY/POLICY_DENY'],
  ];
  for (const [rule, args, expected] of rows)
    test(`${rule} with ${JSON.stringify(args)} → ${expected}`, () => {
      const s = new Session(policy(agent(`  rules {\n    ${rule}\n    permit t\n  }`)));
      assert.equal(outcome(s.call({ tool: 't', args })), expected);
    });
  test('the denial says why the rule applied', () => {
    const s = new Session(policy(agent('  rules {\n    deny t if amount > $500 reason "too much"\n    permit t\n  }')));
    const d = s.call({ tool: 't', args: { amount: '9000' } });
    assert.match(d.human_message ?? '', /compares values of different types \(an argument sent as another type/);
    assert.ok(d.rule_ref, 'the rule that applied is named');
  });
  test('a permit is never granted that way', () => {
    const s = new Session(policy(agent('  rules {\n    permit t if amount <= $500\n  }')));
    assert.equal(outcome(s.call({ tool: 't', args: { amount: '100' } })), 'DENY/POLICY_DENY');
  });
});
