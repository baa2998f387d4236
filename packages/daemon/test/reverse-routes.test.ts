/** The reverse proxy's pure parts: OpenAPI → routes, matching, typed arguments, strict JSON, path cleaning. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HttpRouteIR } from '@faramesh/fpl';
import { duplicateKey, formFields, parseStrictJson } from '../src/http-proxy/body.js';
import { cleanPath, RouteError, routeArgs, RouteTable } from '../src/http-proxy/routes.js';
import { openApiRoutes } from '../src/stack/http-routes.js';

const route = (method: string, path: string, tool: string, extra: Partial<HttpRouteIR> = {}): HttpRouteIR => ({
  method,
  path,
  tool,
  params: [],
  ref: tool,
  ...extra,
});

test('matching: concrete paths before templates, a named method before *, segment counts exact', () => {
  const table = new RouteTable([
    route('*', '/items/{id}', 'any_item'),
    route('GET', '/items/{id}', 'get_item'),
    route('GET', '/items/new', 'new_form'),
    route('POST', '/items', 'create'),
  ]);
  assert.equal(table.match('GET', '/items/new')?.route.tool, 'new_form');
  assert.deepEqual(table.match('GET', '/items/a%20b'), { route: table.routes[1], path: { id: 'a b' } });
  assert.equal(table.match('DELETE', '/items/3')?.route.tool, 'any_item');
  assert.equal(table.match('GET', '/items'), undefined);
  assert.equal(table.match('POST', '/items')?.route.tool, 'create');
  assert.equal(table.match('GET', '/items/3/extra'), undefined);
  assert.throws(() => table.match('GET', '/items/%E0%A4%A'), RouteError);
  assert.throws(() => table.match('POST', '/ITEMS'), /differs from the route \/items only in letter case/);
});

test('a path two routes of equal rank both match is refused: the upstream could run either', () => {
  const table = new RouteTable([route('GET', '/a/{x}', 'get_a'), route('GET', '/{y}/b', 'get_b'), route('GET', '/a/b/{z}', 'deep')]);
  assert.throws(() => table.match('GET', '/a/b'), /matches both \/a\/\{x\} \(get_a\) and \/\{y\}\/b \(get_b\)/);
  assert.equal(table.match('GET', '/a/c')?.route.tool, 'get_a');
  assert.equal(table.match('GET', '/c/b')?.route.tool, 'get_b');
  assert.equal(table.match('GET', '/a/b/1')?.route.tool, 'deep');
  // More literals settle it, and so does a named method over `*` on the same template; a `*` route
  // on another template of equal rank contests it as any route does.
  const ranked = new RouteTable([
    route('GET', '/a/{x}', 'get_a'),
    route('GET', '/a/b', 'exact'),
    route('*', '/{y}/c', 'any'),
    route('*', '/a/{z}', 'any_a'),
  ]);
  assert.equal(ranked.match('GET', '/a/b')?.route.tool, 'exact');
  assert.throws(() => ranked.match('GET', '/a/c'), /matches both/);
  assert.equal(ranked.match('GET', '/a/d')?.route.tool, 'get_a');
  assert.equal(ranked.match('POST', '/a/d')?.route.tool, 'any_a');
});

test('arguments: typed by their declarations, strings otherwise; a name twice with different values is refused', () => {
  const r = route('GET', '/orders/{id}', 'order', {
    params: [
      { name: 'id', in: 'path', type: 'integer' },
      { name: 'ids', in: 'query', type: 'array', items: 'number' },
      { name: 'full', in: 'query', type: 'boolean' },
      { name: 'x-tenant', in: 'header', type: 'string' },
    ],
  });
  const m = new RouteTable([r]).match('GET', '/orders/12')!;
  const q = new URLSearchParams('ids=1&ids=2.5&full=true&note=x');
  assert.deepEqual(routeArgs(m, q, { 'x-tenant': 'acme', 'x-other': 'no' }, undefined), {
    id: 12,
    ids: [1, 2.5],
    full: true,
    note: 'x',
    'x-tenant': 'acme',
  });
  assert.throws(() => routeArgs(m, new URLSearchParams('free=a&free=b'), {}, undefined), /gives 'free' more than once/);
  assert.throws(() => routeArgs(m, new URLSearchParams('full=true&full=false'), {}, undefined), /gives 'full' more than once/);
  assert.throws(() => routeArgs(m, new URLSearchParams('full=yes'), {}, undefined), /'full' must be true or false/);
  assert.throws(() => routeArgs(m, new URLSearchParams('ids=1,x'), {}, undefined), /'ids' must be a number/);
  assert.throws(() => routeArgs(new RouteTable([r]).match('GET', '/orders/1.5')!, q, {}, undefined), /'id' must be an integer/);
  assert.deepEqual(
    routeArgs(m, new URLSearchParams(), {}, { fields: { id: 12, title: 't' }, form: false }),
    { id: 12, title: 't' },
    'equal values agree',
  );
  assert.throws(
    () => routeArgs(m, new URLSearchParams(), {}, { fields: { id: 13 }, form: false }),
    /'id' is given twice, in the path and in the body/,
  );
  // Names that differ only in letter case, in one source or across two: an upstream may read either.
  assert.throws(
    () => routeArgs(m, new URLSearchParams('AMOUNT=5000&amount=50'), {}, undefined),
    /'AMOUNT' \(query\) and 'amount' \(query\) differ only in letter case/,
  );
  assert.throws(
    () => routeArgs(m, new URLSearchParams('amount=50'), {}, { fields: { Amount: 5000 }, form: false }),
    /'amount' \(query\) and 'Amount' \(body\)/,
  );
  assert.throws(() => routeArgs(m, new URLSearchParams(), {}, { fields: { ID: '2' }, form: false }), /'id' \(path\) and 'ID' \(body\)/);
  // Bracket names are lists or objects to PHP, Rails and qs: refused unless the document names them so.
  assert.throws(() => routeArgs(m, new URLSearchParams('amount[]=5000'), {}, undefined), /'amount\[\]': a name with brackets/);
  assert.throws(() => routeArgs(m, new URLSearchParams(), {}, { fields: { 'amount[0]': '5000' }, form: true }), /a name with brackets/);
  const typedBody = route('POST', '/refund', 'refund', {
    params: [
      { name: 'amount', in: 'body', type: 'integer' },
      { name: 'tags', in: 'body', type: 'array', items: 'string' },
    ],
  });
  const b = new RouteTable([typedBody]).match('POST', '/refund')!;
  const none = new URLSearchParams();
  assert.deepEqual(routeArgs(b, none, {}, { fields: { amount: '5000' }, form: true }), { amount: 5000 }, 'a form field is typed');
  assert.deepEqual(routeArgs(b, none, {}, { fields: { tags: ['a', 'b'] }, form: true }), { tags: ['a', 'b'] }, 'repeated: the values');
  assert.deepEqual(routeArgs(b, none, {}, { fields: { tags: 'a,b' }, form: true }), { tags: ['a,b'] }, 'one value, comma and all');
  assert.throws(() => routeArgs(b, none, {}, { fields: { amount: 'abc' }, form: true }), /'amount' must be an integer/);
  assert.throws(() => routeArgs(b, none, {}, { fields: { amount: '5000' }, form: false }), /'amount' must be integer .*not "5000"/);
  assert.throws(() => routeArgs(b, none, {}, { fields: { tags: ['a', 1] }, form: false }), /must be an array of string/);
  // A declared name in other letters is read as that name by lenient upstreams: never untyped.
  assert.throws(() => routeArgs(b, none, {}, { fields: { Amount: '5000' }, form: false }), /'Amount' differs from the declared 'amount'/);
  assert.throws(() => routeArgs(b, none, {}, { fields: { AMOUNT: '5000' }, form: true }), /differs from the declared 'amount'/);
  // PHP reads dots and spaces in names as underscores.
  assert.throws(() => routeArgs(m, new URLSearchParams('max.amount=5000'), {}, undefined), /PHP reads a name's dots and spaces/);
  assert.throws(() => routeArgs(m, new URLSearchParams('max%20amount=5000'), {}, undefined), /PHP reads/);
  assert.deepEqual(routeArgs(b, none, {}, { fields: { amount: 12, tags: ['a'], note: 'x' }, form: false }), {
    amount: 12,
    tags: ['a'],
    note: 'x',
  });
  const untyped = new RouteTable([route('GET', '/n/{n}', 'n')]).match('GET', '/n/007')!;
  assert.deepEqual(
    routeArgs(untyped, new URLSearchParams('amount=5'), {}, undefined),
    { n: '007', amount: '5' },
    'a route map keeps strings',
  );
  // Names like Object.prototype members: a path parameter `__proto__` is bound as a key, and a header
  // parameter `constructor` the client did not send is absent (Node's headers inherit from Object).
  const odd = route('GET', '/o/{__proto__}', 'odd', {
    params: [
      { name: '__proto__', in: 'path', type: 'string' },
      { name: 'constructor', in: 'header', type: 'string' },
    ],
  });
  const om = new RouteTable([odd]).match('GET', '/o/abc')!;
  assert.deepEqual(Object.entries(routeArgs(om, new URLSearchParams(), {}, undefined)), [['__proto__', 'abc']]);
});

test('strict JSON: a key twice in one object is refused at any depth; the same key in sibling objects is not', () => {
  assert.equal(duplicateKey('{"a":1,"b":{"a":2},"c":[{"a":1},{"a":2}]}'), undefined);
  assert.equal(duplicateKey('{"a":1,"a":2}'), 'a');
  assert.equal(duplicateKey('{"x":{"k":"v","k":"w"}}'), 'k');
  assert.equal(duplicateKey('[{"q":1},{"q":1,"q":2}]'), 'q');
  assert.equal(duplicateKey('{"a\\"b":1,"a\\u0022b":2}'), 'a"b', 'escapes are compared decoded');
  assert.equal(duplicateKey('{"amount":50,"Amount":5000}'), 'Amount', 'letter case aside, as Go and ASP.NET bind keys');
  assert.equal(duplicateKey('{"sum":1,"\u017fum":2}'), '\u017fum', 'the long s folds to s');
  assert.equal(duplicateKey('{"k":1,"\u212a":2}'), '\u212a', 'the Kelvin sign folds to k');
  assert.equal(duplicateKey('{"s":"a,\\"b\\":1","b":2}'), undefined, 'text inside strings is not structure');
  assert.throws(() => parseStrictJson('{"amount":5,"amount":5000}'), /'amount' twice/);
  assert.throws(() => parseStrictJson('{'), /not valid JSON/);
  assert.deepEqual(formFields('a=1&b=2&a=3'), { a: ['1', '3'], b: '2' });
  // A field named __proto__ is a field: defined on the result, not made its prototype.
  const odd = formFields('__proto__=x&__proto__=y&constructor=z');
  assert.equal(Object.getPrototypeOf(odd), Object.prototype);
  assert.deepEqual(Object.entries(odd), [
    ['__proto__', ['x', 'y']],
    ['constructor', 'z'],
  ]);
});

test('paths: dot segments resolve, repeated slashes fold, unreserved escapes decode; encoded slashes, ; and odd targets are refused', () => {
  assert.deepEqual(cleanPath('/a/../b//c?x=1'), { path: '/b/c', search: '?x=1' });
  assert.deepEqual(cleanPath('/orders/1/%72efund'), { path: '/orders/1/refund', search: '' });
  assert.deepEqual(cleanPath('/x/%41%42%20c%3b'), { path: '/x/AB%20c%3B', search: '' });
  assert.throws(() => cleanPath('/orders/1/refund;x=1'), /; in the path/);
  assert.deepEqual(cleanPath('//status'), { path: '/status', search: '' });
  assert.deepEqual(cleanPath('/a/%2e%2e/b'), { path: '/b', search: '' });
  assert.throws(() => cleanPath('/a%2Fb'), /encoded/);
  assert.throws(() => cleanPath('/a%5cb'), /encoded/);
  assert.throws(() => cleanPath('*'), /not a request target/);
});

test('OpenAPI: $refs followed, path-level parameters overridden by the operation, 3.1 type lists, declared bodies and their fields', async () => {
  const { routes, warnings } = await openApiRoutes(
    `{"openapi":"3.1.0","paths":{
      "/pets/{id}":{"parameters":[{"name":"id","in":"path","schema":{"type":"string"}}],
        "put":{"operationId":"update_pet","parameters":[{"name":"id","in":"path","schema":{"type":["integer","null"]}},
          {"name":"session","in":"cookie"},{"name":"X-Trace","in":"header"},{"name":"Authorization","in":"header"},
          {"name":"limit","in":"query","schema":{"anyOf":[{"type":"integer"},{"type":"null"}]}}],
          "requestBody":{"$ref":"#/components/requestBodies/Pet"}},
        "get":{"summary":"unnamed"}}},
     "components":{"requestBodies":{"Pet":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/Pet"}},"application/x-www-form-urlencoded":{}}}},
       "schemas":{"Pet":{"type":"object","properties":{"age":{"type":["integer","null"]},"weight":{"oneOf":[{"type":"number"},{"type":"null"}]},"tags":{"type":"array","items":{"type":"string"}},
         "owner":{"type":"object"},"name":{}}}}}}`,
    'pets.json',
  );
  assert.deepEqual(routes, [
    // Without an operationId: it keeps its path (no template takes its requests), under http/<method>.
    { method: 'GET', path: '/pets/{id}', tool: 'http/get', params: [], ref: 'pets.json GET /pets/{id}' },
    {
      method: 'PUT',
      path: '/pets/{id}',
      tool: 'update_pet',
      params: [
        { name: 'id', in: 'path', type: 'integer' },
        { name: 'x-trace', in: 'header', type: 'string' },
        // Nullable as FastAPI writes it (anyOf a type and null): still that type.
        { name: 'limit', in: 'query', type: 'integer' },
        // The body schema's plainly typed fields (an object or an untyped field is not typed).
        { name: 'age', in: 'body', type: 'integer' },
        { name: 'weight', in: 'body', type: 'number' },
        { name: 'tags', in: 'body', type: 'array', items: 'string' },
      ],
      body: ['application/json', 'application/x-www-form-urlencoded'],
      ref: 'pets.json update_pet',
    },
  ]);
  assert.deepEqual(warnings, [
    'pets.json: GET /pets/{id} has no operationId: its requests are decided as http/get',
    'pets.json: PUT /pets/{id} header parameter authorization carries a credential: it is not an argument',
  ]);
  const bad = (doc: string, why: RegExp) => assert.rejects(() => openApiRoutes(doc, 'api.yaml'), why);
  await bad(
    'openapi: 3.0.0\npaths:\n  /a:\n    get: { operationId: x, parameters: [{ $ref: "https://x/p.yaml" }] }\n',
    /only local \$refs/,
  );
  await bad(
    'openapi: 3.0.0\npaths:\n  /a:\n    get: { operationId: x, parameters: [{ $ref: "#/components/parameters/Nope" }] }\n',
    /points nowhere/,
  );
  await bad('openapi: 3.0.0\npaths:\n  "/a{b}c": {}\n', /not a path template/);
  await bad('openapi: 3.0.0\nopenapi: 3.0.1\npaths: {}\n', /not YAML or JSON/);
  await bad('info: {}\n', /no 'openapi: 3.x' version/);
  await bad('a: &a [*a, *a]\nb: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n', /not YAML or JSON|no 'openapi/);
});

test('a path a template takes exactly, and a route with more literals takes but for letter case, is refused', () => {
  const table = new RouteTable([route('POST', '/items/{id}', 'update_item'), route('POST', '/items/new', 'create_item')]);
  assert.equal(table.match('POST', '/items/7')?.route.tool, 'update_item');
  assert.equal(table.match('POST', '/items/new')?.route.tool, 'create_item');
  // A case-insensitive upstream runs create_item for /items/NEW; the policy would decide update_item.
  assert.throws(() => table.match('POST', '/items/NEW'), /differs from the route \/items\/new only in letter case/);
});
