/**
 * A SPIRE agent's Workload API for tests: gRPC on a Unix socket (@grpc/grpc-js), refusing calls
 * without the `workload.spiffe.io: true` header as SPIRE does. FetchJWTSVID signs ES256 JWT-SVIDs
 * for the ids it holds; FetchX509SVID streams X.509-SVIDs (URI SAN, signed by a test CA) and pushes a
 * new set on every `setSvids`, as a rotation would.
 */
import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import { newEcKey } from '@faramesh/audit';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import * as x509 from '@peculiar/x509';
import { SignJWT } from 'jose';
import { WORKLOAD_PROTO } from '@faramesh/daemon';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

interface Held {
  spiffe_id: string;
  x509_svid: Buffer;
  x509_svid_key: Buffer;
  bundle: Buffer;
}

export class FakeSpire {
  jwtCalls = 0;
  /** Answer every call UNAVAILABLE (and end open streams). */
  down = false;
  private held: Held[] = [];
  private readonly streams = new Set<grpc.ServerWritableStream<object, { svids: Held[] }>>();
  private readonly jwtKey = newEcKey('P-256').privateKey;

  private constructor(
    readonly socket: string,
    private readonly server: grpc.Server,
    private readonly ca: { key: webcrypto.CryptoKey; cert: x509.X509Certificate },
  ) {}

  /** `caValidMs`: how long the trust bundle's root stays in date (a day by default). */
  static async start(dir: string, caValidMs = 86_400_000): Promise<FakeSpire> {
    const socket = join(dir, 'spire-agent.sock');
    const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01',
      name: 'CN=test SPIRE CA',
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + caValidMs),
      keys,
      signingAlgorithm: ALG,
      extensions: [new x509.BasicConstraintsExtension(true, 1, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
    });
    const root = protobuf.parse(WORKLOAD_PROTO, { keepCase: true }).root;
    const def = fromJSON(root.toJSON(), { keepCase: true, longs: String, bytes: Buffer, defaults: true, arrays: true });
    const service = (grpc.loadPackageDefinition(def).SpiffeWorkloadAPI as unknown as { service: grpc.ServiceDefinition }).service;
    const server = new grpc.Server();
    const spire = new FakeSpire(socket, server, { key: keys.privateKey, cert });
    server.addService(service, {
      FetchJWTSVID: (call: grpc.ServerUnaryCall<{ audience: string[]; spiffe_id: string }, unknown>, cb: grpc.sendUnaryData<unknown>) =>
        void spire.fetchJwt(call).then(
          (r) => cb(null, r),
          (e: grpc.ServiceError) => cb(e),
        ),
      FetchX509SVID: (call: grpc.ServerWritableStream<object, { svids: Held[] }>) => spire.watch(call),
    });
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`unix:${socket}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())),
    );
    return spire;
  }

  /** Hold X.509-SVIDs for these ids (valid `validMs` from now) and stream them to every watcher. */
  async setSvids(ids: string[], validMs = 3_600_000): Promise<void> {
    this.held = await Promise.all(ids.map((id) => this.mint(id, validMs)));
    for (const s of this.streams) s.write({ svids: this.held });
  }

  /** End every open stream (the daemon reconnects). */
  dropStreams(): void {
    for (const s of this.streams) s.end();
    this.streams.clear();
  }

  close(): Promise<void> {
    this.dropStreams();
    return new Promise((r) => this.server.tryShutdown(() => r()));
  }

  private refused(md: grpc.Metadata): grpc.ServiceError | undefined {
    const error = (code: grpc.status, details: string) =>
      Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
    if (md.get('workload.spiffe.io')[0] !== 'true') return error(grpc.status.INVALID_ARGUMENT, 'security header missing from request');
    if (this.down) return error(grpc.status.UNAVAILABLE, 'agent is shutting down');
    return undefined;
  }

  private async fetchJwt(call: grpc.ServerUnaryCall<{ audience: string[]; spiffe_id: string }, unknown>) {
    const refused = this.refused(call.metadata);
    if (refused) throw refused;
    this.jwtCalls++;
    const { audience, spiffe_id } = call.request;
    if (!this.held.some((h) => h.spiffe_id === spiffe_id))
      throw Object.assign(new Error('no identity issued'), { code: grpc.status.PERMISSION_DENIED, details: 'no identity issued' });
    const svid = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'test' })
      .setSubject(spiffe_id)
      .setAudience(audience)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(this.jwtKey);
    return { svids: [{ spiffe_id, svid }] };
  }

  private watch(call: grpc.ServerWritableStream<object, { svids: Held[] }>): void {
    const refused = this.refused(call.metadata);
    if (refused) return void call.destroy(refused);
    this.streams.add(call);
    call.on('cancelled', () => this.streams.delete(call));
    if (this.held.length > 0) call.write({ svids: this.held });
  }

  private async mint(id: string, validMs: number): Promise<Held> {
    const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: `7${randomBytes(8).toString('hex')}`,
      subject: 'O=SPIRE',
      issuer: this.ca.cert.subject,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + validMs),
      signingKey: this.ca.key,
      publicKey: keys.publicKey,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: id }]),
      ],
    });
    return {
      spiffe_id: id,
      x509_svid: Buffer.from(leaf.rawData),
      x509_svid_key: Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)),
      bundle: Buffer.from(this.ca.cert.rawData),
    };
  }
}
