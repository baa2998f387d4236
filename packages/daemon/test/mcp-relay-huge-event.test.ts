/**
 * The relay path watches a call's event stream for server requests without holding its events: a
 * result sent as one huge SSE line (a big file's contents) passes through in bounded memory, and one
 * longer than a string can be does not crash the daemon.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { relayCall } from '../src/mcp/passthrough.js';

const listen = (s: Server) => new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)));

test('a single SSE line larger than a string can hold is relayed, not a crash', async () => {
  const MiB = 1 << 20;
  const chunk = Buffer.alloc(MiB, 'x');
  const total = 560; // MiB: past V8's longest string (2^29 - 24 characters)
  const upstream = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('event: message\ndata: {"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"');
    let sent = 0;
    const more = () => {
      while (sent < total) {
        sent++;
        if (!res.write(chunk)) return void res.once('drain', more);
      }
      res.end('"}]}}\n\n');
    };
    more();
  });
  const up = await listen(upstream);
  const front = createServer((req, res) => {
    void relayCall({ url: new URL(`http://127.0.0.1:${up}/mcp`), headers: {} }, '{}', req, res, 1);
  });
  const port = await listen(front);
  let crashed: Error | undefined;
  const onCrash = (e: Error) => (crashed = e);
  process.on('uncaughtException', onCrash);
  try {
    const received = await new Promise<number>((resolve, reject) => {
      request({ host: '127.0.0.1', port, method: 'POST' }, (res) => {
        let n = 0;
        res.on('data', (d: Buffer) => (n += d.length));
        res.on('end', () => resolve(n));
        res.on('error', reject);
      })
        .on('error', reject)
        .end('{}');
    });
    assert.equal(crashed, undefined, `the relay threw: ${crashed?.message}`);
    assert.ok(received > total * MiB, 'the whole event reached the client');
  } finally {
    process.off('uncaughtException', onCrash);
    front.close();
    upstream.close();
  }
});
