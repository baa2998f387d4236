/** `runtime { http_routes, http_openapi, http_agent }`: the reverse proxy's route map is checked where it is written. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkText } from './support/policy.js';

const runtime = (body: string) => `runtime {\n${body}\n}\n`;

test('a route map keeps its routes and tool ids', () => {
  const r = checkText(
    runtime(
      '  http_routes = { "POST /orders/{id}/refund" = "refund_order", "* /v2/{a}/x" = "anything", "GET /" = root }\n  http_openapi = "./openapi.yaml"\n  http_agent = "ops"',
    ),
  );
  assert.deepEqual(r.summary, []);
  assert.deepEqual(r.ir!.runtime.http_routes, { 'POST /orders/{id}/refund': 'refund_order', '* /v2/{a}/x': 'anything', 'GET /': 'root' });
  assert.equal(r.ir!.runtime.http_openapi, './openapi.yaml');
});

for (const [title, body, message] of [
  ['a lower-case method', '  http_routes = { "get /x" = "x" }', /'get \/x' is not a route/],
  ['no method', '  http_routes = { "/x" = "x" }', /is not a route/],
  ['a relative path', '  http_routes = { "GET x" = "x" }', /is not a route/],
  ['a half parameter', '  http_routes = { "GET /a/{id" = "x" }', /is not a route/],
  ['two parameters in one segment', '  http_routes = { "GET /a/{x}{y}" = "x" }', /is not a route/],
  ['a query in the route', '  http_routes = { "GET /a?b=1" = "x" }', /is not a route/],
  ['a tool id with spaces', '  http_routes = { "GET /a" = "two words" }', /not a tool id/],
  ['a tool id from env', '  http_routes = { "GET /a" = env("TOOL") }', /must be a string \(a tool id\)/],
  ['the OpenAPI file from env', '  http_openapi = env("SPEC")', /'http_openapi' must be written in the policy/],
  ['the route twice', '  http_routes = {\n    "GET /a" = "x"\n    "GET /a" = "y"\n  }', /sets 'GET \/a' twice/],
] as const) {
  test(`refused: ${title}`, () => {
    const r = checkText(runtime(body));
    assert.equal(r.ir, undefined);
    assert.match(r.errors[0]!.message, message);
  });
}
