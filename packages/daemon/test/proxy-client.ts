/** A raw client of the forward proxy for tests. */
import { connect } from 'node:net';

/** Send `CONNECT target` (with a Host of `host`) to the proxy on `port`: the reply's head, up to its blank line. */
export function connectHead(port: number, target: string, host = target): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${host}\r\n\r\n`));
    let data = '';
    s.on('data', (d: Buffer) => {
      data += d.toString('latin1');
      if (data.includes('\r\n\r\n')) {
        s.destroy();
        resolve(data);
      }
    });
    s.on('error', reject);
    s.on('close', () => reject(new Error(`closed with no whole reply (${data.length} bytes)`)));
  });
}
