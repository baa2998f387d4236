/**
 * The stack's proxy CA, for the opt-in TLS-inspecting mode of the forward proxy
 * (`runtime { https_inspection = true }`). The CA (ECDSA P-256) is made on first use under
 * `.faramesh/keys/` (key 0600), and its certificate is published where agents can read it, alone
 * and as a bundle with the system's roots. Leaf certificates are minted per host on demand, all
 * over one key pair of this run, and kept for the run (or until a day before they expire).
 */
import { createPrivateKey, randomBytes, webcrypto, X509Certificate as NodeX509, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { basename, join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import { newEcKey, writeDurable } from '@faramesh/audit';
import { proxyCaFiles } from '../stack/paths.js';

type X509 = typeof import('@peculiar/x509');
type CryptoKey = webcrypto.CryptoKey;

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;
const CA_LIFETIME = 3650 * DAY;
const LEAF_LIFETIME = 7 * DAY;
/** Hosts whose leaf is kept; past this the oldest goes (a client sees a fresh one next time). */
const LEAVES = 2048;

/** The system roots a bundle starts from, where Debian, Fedora and Alpine keep them. */
const SYSTEM_ROOTS = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'];

export class StackCa {
  private readonly leaves = new Map<string, { context: Promise<SecureContext>; until: number }>();
  private readonly leafKey: { pem: string; public: Promise<CryptoKey> };

  private constructor(
    private readonly x509: X509,
    private readonly caKey: CryptoKey,
    private readonly caCert: InstanceType<X509['X509Certificate']>,
  ) {
    const pair = newEcKey('P-256');
    this.leafKey = {
      pem: pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      public: webcrypto.subtle.importKey('spki', pair.publicKey.export({ format: 'der', type: 'spki' }), ALG, true, ['verify']),
    };
  }

  /** Load the CA from `keysDir`, making it on first use, and publish its certificate in `publishDir`. */
  static async load(keysDir: string, publishDir: string): Promise<StackCa> {
    // The library wants the Reflect metadata API; it is loaded only when inspection is on.
    await import('reflect-metadata');
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
    const keyFile = join(keysDir, 'proxy-ca.key');
    const certFile = join(keysDir, 'proxy-ca.crt');
    let key: CryptoKey;
    let cert: InstanceType<X509['X509Certificate']>;
    if (existsSync(keyFile) && existsSync(certFile)) {
      // A CA that cannot sign for its certificate would start a daemon whose every inspected tunnel
      // fails its handshake: refuse the start instead, naming the files.
      const unusable = (why: string) =>
        new Error(
          `the proxy CA in ${keysDir} cannot be used: ${why}. Restore proxy-ca.key and proxy-ca.crt, or move both away to make a new CA (agents must then trust the new one)`,
        );
      let matches: boolean;
      try {
        const pem = readFileSync(keyFile, 'utf8');
        const certPem = readFileSync(certFile, 'utf8');
        matches = new NodeX509(certPem).checkPrivateKey(createPrivateKey(pem));
        key = await webcrypto.subtle.importKey('pkcs8', pemBody(pem), ALG, false, ['sign']);
        cert = new x509.X509Certificate(certPem);
      } catch (e) {
        throw unusable((e as Error).message);
      }
      if (!matches) throw unusable('proxy-ca.key is not the key of proxy-ca.crt');
    } else {
      mkdirSync(keysDir, { recursive: true, mode: 0o700 });
      chmodSync(keysDir, 0o700);
      const pair = newEcKey('P-256');
      key = await webcrypto.subtle.importKey('pkcs8', pair.privateKey.export({ format: 'der', type: 'pkcs8' }), ALG, false, ['sign']);
      cert = await x509.X509CertificateGenerator.createSelfSigned({
        serialNumber: serial(),
        name: `CN=Faramesh proxy CA ${randomBytes(4).toString('hex')}, O=Faramesh`,
        notBefore: new Date(Date.now() - DAY),
        notAfter: new Date(Date.now() + CA_LIFETIME),
        keys: { privateKey: key, publicKey: await publicOf(pair.publicKey) },
        signingAlgorithm: ALG,
        extensions: [
          new x509.BasicConstraintsExtension(true, 0, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        ],
      });
      writeDurable(keysDir, 'proxy-ca.key', pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 0o600);
      writeDurable(keysDir, 'proxy-ca.crt', cert.toString('pem'), 0o644);
    }
    const ca = new StackCa(x509, key, cert);
    ca.publish(publishDir);
    return ca;
  }

  get certPem(): string {
    return this.caCert.toString('pem');
  }

  private publish(dir: string): void {
    mkdirSync(dir, { recursive: true, mode: 0o711 });
    const pem = `${this.certPem.trim()}\n`;
    const roots = SYSTEM_ROOTS.find((f) => existsSync(f));
    const bundle = `${roots ? `${readFileSync(roots, 'utf8').trimEnd()}\n` : ''}${pem}`;
    const files = proxyCaFiles(dir);
    writeDurable(dir, basename(files.cert), pem, 0o644);
    writeDurable(dir, basename(files.bundle), bundle, 0o644);
  }

  /** The TLS context the proxy presents to an agent for `host` (a name or an IP). */
  // The system clock, not the daemon's (core/clock.ts): the agent judges these certificates by it.
  contextFor(host: string, nowMs = Date.now()): Promise<SecureContext> {
    const held = this.leaves.get(host);
    if (held && held.until > nowMs) return held.context;
    if (this.leaves.size >= LEAVES) this.leaves.delete(this.leaves.keys().next().value!);
    const context = this.mint(host, nowMs).then((certPem) => createSecureContext({ key: this.leafKey.pem, cert: certPem }));
    this.leaves.set(host, { context, until: nowMs + LEAF_LIFETIME - DAY });
    context.catch(() => this.leaves.delete(host));
    return context;
  }

  private async mint(host: string, nowMs: number): Promise<string> {
    const x = this.x509;
    const leaf = await x.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: `CN=${host.replace(/[,+"\\<>;=]/g, '')}`,
      issuer: this.caCert.subject,
      notBefore: new Date(nowMs - 3_600_000),
      notAfter: new Date(nowMs + LEAF_LIFETIME),
      signingKey: this.caKey,
      publicKey: await this.leafKey.public,
      signingAlgorithm: ALG,
      extensions: [
        new x.BasicConstraintsExtension(false, undefined, true),
        new x.KeyUsagesExtension(x.KeyUsageFlags.digitalSignature, true),
        new x.ExtendedKeyUsageExtension([x.ExtendedKeyUsage.serverAuth]),
        new x.SubjectAlternativeNameExtension([isIP(host) ? { type: 'ip', value: host } : { type: 'dns', value: host }]),
      ],
    });
    return `${leaf.toString('pem')}\n${this.certPem}`;
  }
}

/** A positive serial number of 16 random bytes. */
const serial = () => `7${randomBytes(15).toString('hex')}`;

function pemBody(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

function publicOf(key: KeyObject): Promise<CryptoKey> {
  return webcrypto.subtle.importKey('spki', key.export({ format: 'der', type: 'spki' }), ALG, true, ['verify']);
}
