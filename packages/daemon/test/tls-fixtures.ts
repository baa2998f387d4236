/** TLS material for tests: a self-signed P-256 certificate made by openssl. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A certificate for `cn` and its key, as files in a new temp dir. */
export function selfSignedCert(cn: string): { dir: string; key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fm-tls-'));
  const [key, cert] = [join(dir, 'tls.key'), join(dir, 'tls.crt')];
  const gen = spawnSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '1',
    '-subj',
    `/CN=${cn}`,
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  assert.equal(gen.status, 0, String(gen.stderr));
  return { dir, key, cert };
}
