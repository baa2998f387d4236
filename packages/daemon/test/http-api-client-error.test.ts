import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { raw, stubHttpApi } from './http-api-fixtures.js';

/** The JSON error of a raw reply, with its status. */
function error(reply: string): { status: number; code: string; message: string } {
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(reply)?.[1]);
  const body = reply.slice(reply.indexOf('\r\n\r\n') + 4);
  return { status, ...(JSON.parse(body) as { error: { code: string; message: string } }).error };
}

// Node answered these itself with a bare status line and no body: the API's JSON error shape was
// broken exactly where a client most needs to be told what it did wrong.
test('requests the HTTP parser refuses get the JSON error shape, and the connection closes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'faramesh-http-client-error-'));
  const api = stubHttpApi(dir);
  const { port } = await api.listen({ host: '127.0.0.1', port: 0 });
  try {
    const chunk = error(
      await raw(port, 'POST /v1/evaluate HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n'),
    );
    assert.deepEqual([chunk.status, chunk.code], [400, 'bad_request']);
    assert.match(chunk.message, /not valid HTTP\/1\.1 \(HPE_INVALID_CHUNK_SIZE\)/);
    const header = error(await raw(port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX: \x01\r\n\r\n'));
    assert.deepEqual([header.status, header.code], [400, 'bad_request']);
    const large = error(await raw(port, `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX: ${'a'.repeat(20_000)}\r\n\r\n`));
    assert.deepEqual([large.status, large.code], [431, 'headers_too_large']);
  } finally {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('/healthz, /readyz and /metrics answer HEAD as load balancers probe: the status, no body', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'faramesh-http-head-'));
  const api = stubHttpApi(dir);
  const { port } = await api.listen({ host: '127.0.0.1', port: 0 });
  try {
    for (const path of ['/healthz', '/readyz', '/metrics']) {
      const r = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'HEAD' });
      assert.equal(r.status, 200, path);
      assert.equal(await r.text(), '');
    }
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`, { method: 'POST' })).status, 405);
  } finally {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
