import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { eachLine, MAX_LINE } from '../src/supervisor/output-lines.js';

test("a supervised agent's output: lines split across chunks, CRLF, a last line without newline, and a line too long cut", async () => {
  const stream = new PassThrough();
  const lines: string[] = [];
  eachLine(stream, (l) => lines.push(l));
  stream.write('one\ntw');
  stream.write('o\r\nthr');
  // A line far longer than any kept: 40 chunks of 64 KiB and no newline, then its end.
  for (let i = 0; i < 40; i++) stream.write(Buffer.alloc(64 << 10, 0x78));
  stream.write('ee\nlast');
  stream.end();
  await new Promise((r) => stream.on('end', r));
  assert.deepEqual(lines.slice(0, 2), ['one', 'two']);
  const long = lines[2]!;
  assert.ok(long.startsWith('thrxxx'));
  assert.match(long, new RegExp(`^thrx{${MAX_LINE - 3}} … \\(${40 * (64 << 10) + 5 - MAX_LINE} more bytes cut\\)$`));
  assert.equal(lines[3], 'last');
  assert.equal(lines.length, 4);
});
