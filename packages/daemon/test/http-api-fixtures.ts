/** An HttpApi under test: READY, a fresh token book in `dir`, every handler a stub answering 200. */
import { connect } from 'node:net';
import { join } from 'node:path';
import { Ed25519Signer, newEd25519Key } from '@faramesh/audit';
import { HttpApi, type HttpApiHandlers } from '../src/wire/http-api.js';
import { TokenBook } from '../src/core/tokens.js';
import { StateSeal } from '../src/stack/sealed-state.js';

export function stubHttpApi(dir: string): HttpApi {
  return new HttpApi(stubHandlers(dir));
}

/** The handlers of stubHttpApi, with its token book (to issue tokens from). */
export function stubHandlers(dir: string): HttpApiHandlers & { tokens: TokenBook } {
  const k = new Ed25519Signer('faramesh/test', newEd25519Key());
  const tokens = new TokenBook(join(dir, 'tokens.json'), new StateSeal(k, [k]));
  tokens.load();
  return {
    state: () => 'READY',
    tokens,
    evaluate: () => Promise.resolve({ status: 200, body: {} }),
    spawnEnded: () => Promise.resolve({ status: 200, body: {} }),
    approval: () => ({}),
    operate: () => Promise.resolve('{}'),
    metrics: () => '',
  };
}

/** Send `text` raw and resolve with everything the server wrote before it closed the connection. */
export function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    s.on('data', (d: Buffer) => (got += d.toString('latin1')));
    s.on('error', () => {});
    s.on('close', () => resolve(got));
    s.write(text);
  });
}
