/**
 * A supervised agent's output, as lines for the daemon log. The agent is untrusted: a line is cut at
 * MAX_LINE bytes (the rest of it is counted, not kept), so no output can grow the daemon's memory
 * (readline keeps a whole line, and a gigabyte without a newline killed the daemon).
 */
import type { Readable } from 'node:stream';

export const MAX_LINE = 8 << 10;

export function eachLine(stream: Readable, onLine: (line: string) => void, max = MAX_LINE): void {
  let kept: Buffer[] = [];
  let keptBytes = 0;
  let cut = 0;
  const flush = () => {
    const text = Buffer.concat(kept).toString('utf8').replace(/\r$/, '');
    onLine(cut > 0 ? `${text} … (${cut} more bytes cut)` : text);
    kept = [];
    keptBytes = 0;
    cut = 0;
  };
  const take = (part: Buffer) => {
    const room = Math.max(0, max - keptBytes);
    if (part.length > room) cut += part.length - room;
    if (room > 0) {
      kept.push(part.subarray(0, room));
      keptBytes += Math.min(room, part.length);
    }
  };
  stream.on('data', (chunk: Buffer) => {
    let at = 0;
    for (let nl = chunk.indexOf(0x0a, at); nl !== -1; nl = chunk.indexOf(0x0a, at)) {
      take(chunk.subarray(at, nl));
      flush();
      at = nl + 1;
    }
    if (at < chunk.length) take(chunk.subarray(at));
  });
  stream.on('end', () => keptBytes + cut > 0 && flush());
}
