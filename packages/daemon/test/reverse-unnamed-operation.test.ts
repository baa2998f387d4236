/**
 * An OpenAPI operation without an operationId: docs/http-proxy.md says its requests are decided as
 * `http/<method>`. Left out of the routes, its path fell to a template beside it (`POST /items/new`
 * to `/items/{id}`), and the request was decided as that other operation (`update_item`, id "new")
 * while the upstream ran the one without a name.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RouteTable } from '../src/http-proxy/routes.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PolicyIR } from '@faramesh/fpl';
import { buildHttpRoutes, openApiRoutes } from '../src/stack/http-routes.js';
import type { GovernParams, GovernResult } from '../src/wire/agent-protocol.js';
import { reverseFixture, type ReverseFixture } from './reverse-fixture.js';

const DOC = `openapi: 3.0.3
info: { title: shop, version: "1" }
paths:
  /items/{id}:
    post:
      operationId: update_item
      requestBody: { content: { application/json: {} } }
  /items/new:
    post:
      summary: create an item (no operationId)
      requestBody: { content: { application/json: {} } }
`;

const decided: GovernParams[] = [];
let table = new RouteTable([]);
let proxy: ReverseFixture;

before(async () => {
  table = new RouteTable((await openApiRoutes(DOC, 'openapi.yaml')).routes);
  proxy = await reverseFixture(
    (req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    },
    {
      table: () => table,
      decide: (p) => {
        decided.push(p);
        return { effect: 'PERMIT', action_id: 'action-1' } as GovernResult;
      },
    },
  );
});
after(() => proxy.close());

const post = (path: string) =>
  fetch(`${proxy.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"x"}' });

test('an operation without operationId is decided as http/<method>, never as a template beside it', async () => {
  decided.length = 0;
  assert.equal((await post('/items/new')).status, 200);
  assert.equal((await post('/items/7')).status, 200);
  assert.deepEqual(
    decided.map((p) => [p.tool_id, p.args]),
    [
      ['http/post', { method: 'POST', path: '/items/new', query: {} }],
      ['update_item', { id: '7', name: 'x' }],
    ],
  );
});

test('a route-map entry for any method (*) names the tool of an operation without operationId', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-unnamed-'));
  writeFileSync(join(dir, 'openapi.yaml'), DOC);
  const ir = {
    runtime: { http_routes: { '* /items/new': 'items/create' }, http_openapi: 'openapi.yaml', http_upstream: 'http://127.0.0.1:1' },
  } as unknown as PolicyIR;
  const { routes } = await buildHttpRoutes(ir, dir);
  assert.equal(new RouteTable(routes).match('POST', '/items/new')?.route.tool, 'items/create');
  assert.equal(new RouteTable(routes).match('POST', '/items/7')?.route.tool, 'update_item');
});
