/**
 * An in-process stand-in for AWS STS (query protocol, XML), Secrets Manager and KMS (JSON 1.1) that
 * checks every request's SigV4 signature against the keys it knows (the root key, and the session
 * keys it issued), as the real services do. Point the SDK at it with AWS_ENDPOINT_URL_STS and
 * AWS_ENDPOINT_URL_SECRETS_MANAGER and AWS_ENDPOINT_URL_KMS. KMS keys sign digests
 * (`MessageType: DIGEST`) with ECDSA, as asymmetric ECC keys do. S3 takes PutObject (path style,
 * AWS_ENDPOINT_URL_S3), checking the payload against its signed SHA-256.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { KmsKey } from './kms-key.js';

interface Key {
  secret: string;
  session?: string;
  /** Set for a session: the policy it was given and when it expires. */
  policy?: string;
  expires?: number;
  sessionName?: string;
}

export class FakeAws {
  readonly rootKey = `AKIA${randomBytes(8).toString('hex').toUpperCase()}`;
  readonly rootSecret = randomBytes(20).toString('base64');
  readonly secrets = new Map<string, { value: string; version: string }>();
  readonly keys = new Map<string, Key>();
  /** S3 objects by `bucket/key`, and a switch that makes S3 answer 503 (an outage). */
  readonly objects = new Map<string, { body: string; contentType?: string }>();
  s3Down = false;
  /** Store each object, then never answer (a daemon killed mid-upload never hears back). */
  s3Hold = false;
  /** Secret ids whose GetSecretValue reply never ends (a body written for as long as it is read). */
  readonly endless = new Set<string>();
  /** KMS keys by ARN. */
  readonly kmsKeys = new Map<string, KmsKey>();
  /** Every request: service, action, the access key that signed it, and whether the signature held. */
  readonly calls: { service: string; action: string; key: string; signed: boolean; session?: string }[] = [];
  private server?: Server;
  url = '';

  async start(): Promise<void> {
    this.keys.set(this.rootKey, { secret: this.rootSecret });
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on(
        'end',
        () => void this.handle(req.method!, req.url!, req.headers as Record<string, string>, Buffer.concat(chunks).toString('utf8'), res),
      );
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server!.address() as { port: number }).port}`;
  }

  stop(): void {
    this.server?.close();
    this.server?.closeAllConnections();
  }

  private async verify(
    method: string,
    url: string,
    headers: Record<string, string>,
    body: string,
  ): Promise<{ key: string; ok: boolean; service: string }> {
    const m =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]+)$/.exec(
        headers.authorization ?? '',
      );
    if (!m) return { key: '', ok: false, service: '' };
    const [, key, , region, service, signedHeaders, signature] = m as unknown as string[];
    const known = this.keys.get(key!);
    if (
      !known ||
      (known.session !== undefined && headers['x-amz-security-token'] !== known.session) ||
      (known.expires ?? Infinity) < Date.now()
    )
      return { key: key!, ok: false, service: service! };
    const signer = new SignatureV4({
      credentials: { accessKeyId: key!, secretAccessKey: known.secret, ...(known.session ? { sessionToken: known.session } : {}) },
      region: region!,
      service: service!,
      sha256: Sha256,
      // S3 alone takes the path as sent, encoded once and not normalized; every other service's
      // canonical URI encodes each segment twice (SigV4: "Create a canonical request").
      uriEscapePath: service !== 's3',
    });
    const names = signedHeaders!.split(';');
    const only: Record<string, string> = {};
    for (const n of names) if (headers[n] !== undefined) only[n] = headers[n]!;
    const u = new URL(url, 'http://x');
    const amzDate = headers['x-amz-date']!;
    const date = new Date(
      `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
    );
    const signed = await signer.sign(
      {
        method,
        protocol: 'http:',
        hostname: headers.host!.split(':')[0]!,
        path: u.pathname,
        query: Object.fromEntries(u.searchParams),
        headers: only,
        body,
      },
      { signingDate: date, signableHeaders: new Set(names) },
    );
    const expected = /Signature=([0-9a-f]+)/.exec(String(signed.headers.authorization))?.[1];
    return { key: key!, ok: expected === signature, service: service! };
  }

  private async handle(
    method: string,
    url: string,
    headers: Record<string, string>,
    body: string,
    res: import('node:http').ServerResponse,
  ): Promise<void> {
    const { key, ok, service } = await this.verify(method, url, headers, body);
    const target = headers['x-amz-target'] ?? '';
    const action = target ? target.split('.')[1]! : (new URLSearchParams(body).get('Action') ?? '');
    this.calls.push({
      service,
      action,
      key,
      signed: ok,
      ...(this.keys.get(key)?.sessionName ? { session: this.keys.get(key)!.sessionName! } : {}),
    });
    if (!ok && service === 's3') {
      res.writeHead(403, { 'content-type': 'application/xml' });
      return void res.end(
        '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided. Check your key and signing method.</Message></Error>',
      );
    }
    if (!ok) {
      res.writeHead(403, { 'content-type': 'application/x-amz-json-1.1' });
      return void res.end(
        JSON.stringify({
          __type: 'InvalidSignatureException',
          message: 'The request signature we calculated does not match the signature you provided.',
        }),
      );
    }
    if (service === 'sts' && action === 'AssumeRole') {
      const form = new URLSearchParams(body);
      const id = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`;
      const secret = randomBytes(20).toString('base64');
      const session = randomBytes(24).toString('base64');
      const duration = Number(form.get('DurationSeconds') ?? 3600);
      const expires = Date.now() + duration * 1000;
      this.keys.set(id, { secret, session, policy: form.get('Policy') ?? '', expires, sessionName: form.get('RoleSessionName') ?? '' });
      res.writeHead(200, { 'content-type': 'text/xml' });
      return void res.end(
        `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>${id}</AccessKeyId><SecretAccessKey>${secret}</SecretAccessKey><SessionToken>${session}</SessionToken><Expiration>${new Date(expires).toISOString()}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROAFAKE:${form.get('RoleSessionName')}</AssumedRoleId><Arn>arn:aws:sts::123456789012:assumed-role/faramesh/${form.get('RoleSessionName')}</Arn></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>${randomBytes(4).toString('hex')}</RequestId></ResponseMetadata></AssumeRoleResponse>`,
      );
    }
    if (service === 'secretsmanager' && action === 'GetSecretValue') {
      const id = (JSON.parse(body) as { SecretId: string }).SecretId;
      if (this.endless.has(id)) {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.write('{"SecretString":"');
        const chunk = Buffer.alloc(64 << 10, 'a');
        let open = true;
        res.on('close', () => (open = false));
        const pump = () => {
          while (open && res.write(chunk));
          if (open) res.once('drain', pump);
        };
        return pump();
      }
      const secret = this.secrets.get(id);
      res.writeHead(secret ? 200 : 400, { 'content-type': 'application/x-amz-json-1.1' });
      return void res.end(
        JSON.stringify(
          secret
            ? {
                ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${id}-AbCdEf`,
                Name: id,
                SecretString: secret.value,
                VersionId: secret.version,
              }
            : { __type: 'ResourceNotFoundException', message: `Secrets Manager can't find the specified secret.` },
        ),
      );
    }
    if (service === 's3' && method === 'PUT') {
      const xml = (status: number, code: string, message: string) => {
        res.writeHead(status, { 'content-type': 'application/xml' });
        res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`);
      };
      if (this.s3Down) return xml(503, 'SlowDown', 'Please reduce your request rate.');
      const declared = headers['x-amz-content-sha256'];
      if (declared && declared !== 'UNSIGNED-PAYLOAD' && declared !== createHash('sha256').update(body).digest('hex'))
        return xml(400, 'XAmzContentSHA256Mismatch', 'The provided x-amz-content-sha256 header does not match what was computed.');
      const path = decodeURIComponent(new URL(url, 'http://x').pathname).slice(1);
      this.objects.set(path, { body, ...(headers['content-type'] ? { contentType: headers['content-type'] } : {}) });
      if (this.s3Hold) return;
      res.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"` });
      return void res.end();
    }
    if (service === 'kms' && (action === 'GetPublicKey' || action === 'Sign')) {
      const p = JSON.parse(body) as { KeyId: string; Message?: string; MessageType?: string; SigningAlgorithm?: string };
      const key = this.kmsKeys.get(p.KeyId);
      const reply = (status: number, json: object) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(json));
      };
      if (!key) return reply(400, { __type: 'NotFoundException', message: `Key '${p.KeyId}' does not exist` });
      const spec = {
        'ecdsa-p256': 'ECC_NIST_P256',
        'ecdsa-p384': 'ECC_NIST_P384',
        'rsa-2048': 'RSA_2048',
        ed25519: 'ECC_NIST_EDWARDS25519',
      }[key.type];
      const algorithms: string[] = {
        'ecdsa-p256': ['ECDSA_SHA_256'],
        'ecdsa-p384': ['ECDSA_SHA_384'],
        'rsa-2048': ['RSASSA_PSS_SHA_256'],
        ed25519: [],
      }[key.type];
      if (action === 'GetPublicKey')
        return reply(200, {
          KeyId: p.KeyId,
          PublicKey: key.spki.toString('base64'),
          KeySpec: spec,
          KeyUsage: 'SIGN_VERIFY',
          SigningAlgorithms: algorithms,
        });
      if (p.MessageType !== 'DIGEST' || !algorithms.includes(p.SigningAlgorithm ?? ''))
        return reply(400, { __type: 'ValidationException', message: `this fake signs digests with ${algorithms.join(', ')}` });
      const signature = key.signDigest(Buffer.from(p.Message!, 'base64'));
      return reply(200, { KeyId: p.KeyId, Signature: signature.toString('base64'), SigningAlgorithm: p.SigningAlgorithm });
    }
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ __type: 'UnknownOperationException', message: `${service} ${action}` }));
  }
}
