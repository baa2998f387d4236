/**
 * The stdio bridge's reader of its client's lines (clientLines): whole messages out of any chunking,
 * and in linear time, so a message of many MiB (the proxy takes up to 16) costs the bridge a few
 * passes over its bytes, not one pass per chunk.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientLines } from '../src/commands/mcp/bridge.js';

const call = (id: number, message: string) =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { message } } });

/** Feed `input` in chunks of `size` (`watched`: around the writes alone); the lines relayed and the replies made here. */
async function read(input: Buffer, size: number, watched: (write: () => void) => void = (write) => write()) {
  const replies: object[] = [];
  const t = clientLines((m) => replies.push(m));
  const out: Buffer[] = [];
  t.on('data', (d: Buffer) => out.push(d));
  // A transform takes each write at once (nothing is queued while its callback is synchronous).
  watched(() => {
    for (let i = 0; i < input.length; i += size) t.write(input.subarray(i, i + size));
  });
  t.end();
  await new Promise((r) => t.once('end', r));
  const lines = Buffer.concat(out).toString('utf8').split('\n').filter(Boolean);
  return { messages: lines.map((l) => JSON.parse(l) as { id: number; params: { arguments: { message: string } } }), replies };
}

test('clientLines: messages split across chunks (a character of several bytes among them), CRLF, a batch, a bad line, and a last line without its end', async () => {
  const input = Buffer.from(
    `${call(1, 'é€😀'.repeat(5000))}\n${call(2, 'b')}\r\n[${call(3, 'c')},${call(4, 'd')}]\n{not json\n${call(5, 'end')}`,
  );
  for (const size of [1, 3, 7919, input.length]) {
    const { messages, replies } = await read(input, size);
    assert.deepEqual(
      messages.map((m) => m.id),
      [1, 2, 3, 4, 5],
      `chunks of ${size}`,
    );
    assert.equal(messages[0]!.params.arguments.message, 'é€😀'.repeat(5000));
    assert.deepEqual(replies, [{ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error: the line is not JSON' } }]);
  }
});

test('clientLines: a long line in many chunks is searched and joined in linear time (bytes examined per byte read stay bounded)', async () => {
  // The work that grows with what was read before: searching for a line end (in a string or a
  // buffer) and joining. Each is counted by the bytes it has to go through.
  let examined = 0;
  const scanned = (length: number, from: number | undefined, at: number) => (at === -1 ? length : at + 1) - Math.max(0, from ?? 0);
  const counting = (write: () => void) => {
    const strIndexOf = String.prototype.indexOf;
    const bufIndexOf = Buffer.prototype.indexOf;
    const concat = Buffer.concat;
    String.prototype.indexOf = function (this: string, search: string, from?: number) {
      const at = strIndexOf.call(this, search, from);
      examined += scanned(this.length, from, at);
      return at;
    };
    Buffer.prototype.indexOf = function (this: Buffer, ...args: Parameters<Buffer['indexOf']>) {
      const at = bufIndexOf.apply(this, args);
      examined += scanned(this.length, typeof args[1] === 'number' ? args[1] : undefined, at);
      return at;
    };
    Buffer.concat = (list: readonly Uint8Array[], length?: number) => {
      const joined = concat(list, length);
      examined += joined.length;
      return joined;
    };
    try {
      write();
    } finally {
      String.prototype.indexOf = strIndexOf;
      Buffer.prototype.indexOf = bufIndexOf;
      Buffer.concat = concat;
    }
  };
  const size = 4 << 20;
  const input = Buffer.from(`${call(1, 'y'.repeat(size))}\n${call(2, 'small')}\n`);
  const result = await read(input, 64 << 10, counting); // 64 KiB: the chunks stdin brings from a pipe
  assert.deepEqual(
    result.messages.map((m) => m.id),
    [1, 2],
  );
  // Linear: a small multiple of the input. Searching the whole pending text again on each of the 64
  // chunks went through about 32 times the input.
  assert.ok(examined < 4 * input.length, `${(examined / input.length).toFixed(1)} bytes examined per byte read`);
});
