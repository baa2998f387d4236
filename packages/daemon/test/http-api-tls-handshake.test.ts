/** The HTTP API over TLS: a connection that never starts its handshake is cut within the headers deadline. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Ed25519Signer, newEd25519Key } from '@faramesh/audit';
import { HttpApi } from '../src/wire/http-api.js';
import { REQUEST_TIMEOUT_MS } from '../src/wire/line-server.js';
import { selfSignedCert } from './tls-fixtures.js';
import { TokenBook } from '../src/core/tokens.js';
import { StateSeal } from '../src/stack/sealed-state.js';

test('a silent TLS connection is closed within REQUEST_TIMEOUT_MS, not after 120 s', async () => {
  const { dir, key, cert } = selfSignedCert('localhost');
  const k = new Ed25519Signer('faramesh/test', newEd25519Key());
  const tokens = new TokenBook(join(dir, 'tokens.json'), new StateSeal(k, [k]));
  tokens.load();
  const api = new HttpApi({
    state: () => 'READY',
    tokens,
    evaluate: () => Promise.resolve({ status: 200, body: {} }),
    spawnEnded: () => Promise.resolve({ status: 200, body: {} }),
    approval: () => ({}),
    operate: () => Promise.resolve('{}'),
    metrics: () => '',
  });
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
