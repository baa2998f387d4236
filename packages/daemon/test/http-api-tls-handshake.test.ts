/** The HTTP API over TLS: a connection that never starts its handshake is cut within the headers deadline. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { connect } from 'node:net';
import { REQUEST_TIMEOUT_MS } from '../src/wire/line-server.js';
import { selfSignedCert } from './tls-fixtures.js';
import { stubHttpApi } from './http-api-fixtures.js';

test('a silent TLS connection is closed within REQUEST_TIMEOUT_MS, not after 120 s', async () => {
  const { dir, key, cert } = selfSignedCert('localhost');
  const api = stubHttpApi(dir);
  const { port } = await api.listen({ host: '127.0.0.1', port: 0, tls: { cert, key } });
  try {
    const started = Date.now();
    const closedAfter = await new Promise<number>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => {});
      s.on('close', () => resolve(Date.now() - started));
      setTimeout(() => (s.destroy(), resolve(Infinity)), REQUEST_TIMEOUT_MS + 5000).unref();
    });
    assert.ok(closedAfter <= REQUEST_TIMEOUT_MS + 2000, `closed after ${closedAfter} ms`);
  } finally {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
