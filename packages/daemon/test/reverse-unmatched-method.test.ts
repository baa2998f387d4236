/**
 * `_method` in the body of a request no route matches: Laravel, Symfony and Rails run such a POST as
 * the method it names, so a request decided as `http/post` would run upstream as a DELETE. docs/http-proxy.md
 * refuses `_method` "in the query, a form or a JSON body" whether or not a route matches.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { reverseFixture, type ReverseFixture } from './reverse-fixture.js';

const ran: string[] = [];
let proxy: ReverseFixture;

before(async () => {
  proxy = await reverseFixture((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      ran.push(`${req.method} ${req.url} ${body}`);
      res.end('ok');
    });
  });
});
after(() => proxy.close());

const post = async (type: string, body: string) => {
  const r = await fetch(`${proxy.url}/orders/1/notes`, { method: 'POST', headers: { 'content-type': type }, body });
  return { status: r.status, text: await r.text() };
};

test('an unmatched request with _method in its form or JSON body is refused, never sent on', async () => {
  ran.length = 0;
  for (const [type, body] of [
    ['application/x-www-form-urlencoded', '_method=DELETE'],
    ['application/x-www-form-urlencoded', 'note=x;_method=DELETE'],
    ['application/json', '{"_method":"DELETE"}'],
  ] as const) {
    const r = await post(type, body);
    assert.equal(r.status, 400, `${type} ${body}: ${r.text}`);
    assert.match(r.text, /_method is refused/);
  }
  assert.deepEqual(ran, []);
});

test('an unmatched request with any other form or JSON body goes on byte for byte', async () => {
  ran.length = 0;
  assert.equal((await post('application/x-www-form-urlencoded', 'note=hello')).status, 200);
  assert.equal((await post('application/json', '{"note":"hello"}')).status, 200);
  assert.equal((await post('text/plain', '_method=DELETE')).status, 200, 'no framework reads a method from text');
  assert.deepEqual(ran, [
    'POST /orders/1/notes note=hello',
    'POST /orders/1/notes {"note":"hello"}',
    'POST /orders/1/notes _method=DELETE',
  ]);
});

test('an unmatched form or JSON body that is not UTF-8 goes on as before, and is still scanned for _method', async () => {
  ran.length = 0;
  const raw = async (type: string, body: Buffer) => {
    const r = await fetch(`${proxy.url}/orders/1/notes`, { method: 'POST', headers: { 'content-type': type }, body });
    return { status: r.status, text: await r.text() };
  };
  const latin1 = 'application/x-www-form-urlencoded; charset=iso-8859-1';
  const ok = await raw(latin1, Buffer.from('note=caf\xe9', 'latin1'));
  assert.equal(ok.status, 200, ok.text);
  const sneaky = await raw(latin1, Buffer.from('note=caf\xe9&_method=DELETE', 'latin1'));
  assert.equal(sneaky.status, 400, sneaky.text);
  const json = await raw('application/json', Buffer.from('{"note":"caf\xe9","_method":"DELETE"}', 'latin1'));
  assert.equal(json.status, 400, json.text);
  assert.equal(ran.length, 1);
});
