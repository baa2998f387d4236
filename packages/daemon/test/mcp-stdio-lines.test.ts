import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { LineReader, withLineReader } from '../src/mcp/stdio-lines.js';

const line = (id: number, text = 'x') => `${JSON.stringify({ jsonrpc: '2.0', id, result: { text } })}\n`;

test('LineReader: messages split across chunks, several in one chunk, CRLF, and a bad line that does not stop the rest', () => {
  const r = new LineReader();
  const all = Buffer.from(line(1, 'a'.repeat(100_000)) + line(2) + line(3).replace('\n', '\r\n') + 'not json\n' + line(4));
  const read: unknown[] = [];
  const take = () => {
    for (;;) {
      try {
        const m = r.readMessage();
        if (m === null) return;
        read.push((m as { id: number }).id);
      } catch {
        read.push('bad');
      }
    }
  };
  for (let i = 0; i < all.length; i += 7919) {
    r.append(all.subarray(i, i + 7919));
    take();
  }
  assert.deepEqual(read, [1, 2, 3, 'bad', 4]);
});

test('LineReader: a message past the limit is refused and forgotten; what follows is read', () => {
  const r = new LineReader(1024);
  r.append(Buffer.alloc(1000, 'x'.charCodeAt(0)));
  assert.throws(() => r.append(Buffer.alloc(100, 'x'.charCodeAt(0))), /the server wrote a message over/);
  // The refused line's rest, up to its line end, reads as one bad line; the next message is whole.
  r.append(Buffer.from(`xxxx\n${line(9)}`));
  assert.throws(() => r.readMessage());
  assert.equal((r.readMessage() as { id: number }).id, 9);
  assert.equal(r.readMessage(), null);
});

test('the daemon reads stdio servers through LineReader (the SDK field it replaces exists)', () => {
  const t = withLineReader(new StdioClientTransport({ command: process.execPath, args: [] }));
  assert.ok((t as unknown as { _readBuffer: unknown })._readBuffer instanceof LineReader);
});
