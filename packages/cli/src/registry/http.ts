/**
 * GET requests to registries: bounded in size and time, redirects followed by hand so that a token
 * is sent only to the origin it belongs to, and never in clear text off the machine.
 */
import { importProblem, type ImportProblem } from '@faramesh/fpl';
import { readLogins, type Login } from './logins.js';
import { envTokenOrigin, TOKEN_TEXT } from './sources.js';

/** Largest body read from a registry: policy packs, manifests and catalogs are far smaller. */
export const MAX_REGISTRY_BODY = 4 * 1024 * 1024;
const TIMEOUT_MS = 15_000;
const MAX_REDIRECTS = 5;

export type GetResult = { bytes: Uint8Array } | { missing: true } | { error: ImportProblem };

export interface RegistryHttp {
  /** GET `url`; `what` names the thing in messages. */
  get(url: string, what: string, limit?: number): Promise<GetResult>;
}

type Env = Record<string, string | undefined>;

/**
 * The token for a request to an origin: `FARAMESH_TOKEN` for `FARAMESH_REGISTRY_URL`'s origin,
 * otherwise a stored login for that origin, otherwise none. Every hop is judged on its own origin.
 */
export function registryHttp(env: Env = process.env, logins: () => Map<string, Login> = readLogins): RegistryHttp {
  let stored: Map<string, Login> | undefined;
  const envOrigin = envTokenOrigin(env);
  const tokenFor = (origin: string): string | undefined => {
    if (origin === envOrigin) {
      if (!TOKEN_TEXT.test(env.FARAMESH_TOKEN!)) throw new Error('FARAMESH_TOKEN holds spaces or control characters, which no token has');
      return env.FARAMESH_TOKEN;
    }
    stored ??= logins();
    return stored.get(origin)?.token || undefined;
  };
  return {
    async get(url, what, limit = MAX_REGISTRY_BODY) {
      let target = new URL(url);
      for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
        let token: string | undefined;
        try {
          token = tokenFor(target.origin);
        } catch (e) {
          return { error: importProblem('import-read-failed', `registry token: ${(e as Error).message}`) };
        }
        const withheld = token !== undefined && !mayCarryToken(target);
        let res: Response;
        try {
          res = await fetch(target, {
            redirect: 'manual',
            signal: AbortSignal.timeout(TIMEOUT_MS),
            headers: { accept: 'application/json, */*', ...(token && !withheld ? { authorization: `Bearer ${token}` } : {}) },
          });
        } catch (e) {
          return { error: unreachable(what, target, e) };
        }
        if (res.status >= 300 && res.status < 400 && res.headers.has('location')) {
          await res.body?.cancel();
          const location = res.headers.get('location')!;
          const next = URL.canParse(location, target.href) ? new URL(location, target) : undefined;
          if (!next || (next.protocol !== 'https:' && next.protocol !== 'http:'))
            return { error: importProblem('import-unreachable', `${what}: ${target.href} redirects to an unusable location`) };
          target = next;
          continue;
        }
        if (res.status === 404 || res.status === 410) {
          await res.body?.cancel();
          return { missing: true };
        }
        if (res.status === 401 || res.status === 403) {
          await res.body?.cancel();
          return { error: refused(what, target, res.status, token !== undefined, withheld, env) };
        }
        if (!res.ok) {
          await res.body?.cancel();
          return { error: importProblem('import-unreachable', `${what}: HTTP ${res.status} from ${target.href}`) };
        }
        return readBounded(res, what, target, limit);
      }
      return { error: importProblem('import-unreachable', `${what}: more than ${MAX_REDIRECTS} redirects from ${url}`) };
    },
  };
}

/** Tokens go over HTTPS, or plain HTTP to this machine (a registry run locally). */
function mayCarryToken(url: URL): boolean {
  return url.protocol === 'https:' || ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

async function readBounded(res: Response, what: string, url: URL, limit: number): Promise<GetResult> {
  const tooLarge = () => ({
    error: importProblem('import-too-large', `${what}: ${url.href} is larger than ${limit} bytes, more than a registry file can be`),
  });
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > limit) {
    await res.body?.cancel();
    return tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body ?? []) {
      size += chunk.byteLength;
      if (size > limit) {
        await res.body?.cancel().catch(() => undefined);
        return tooLarge();
      }
      chunks.push(chunk);
    }
  } catch (e) {
    return { error: unreachable(what, url, e) };
  }
  return { bytes: new Uint8Array(Buffer.concat(chunks)) };
}

/** The cause by its code or the socket's own words; never the error's message, which may quote request headers. */
function unreachable(what: string, url: URL, e: unknown): ImportProblem {
  const err = e as Error & { cause?: { code?: unknown; message?: unknown } };
  const why =
    err.name === 'TimeoutError'
      ? `no answer within ${TIMEOUT_MS / 1000} s`
      : typeof err.cause?.code === 'string'
        ? err.cause.code
        : typeof err.cause?.message === 'string'
          ? err.cause.message
          : 'the request failed';
  return importProblem(
    'import-unreachable',
    `${what}: cannot reach ${url.origin} (${why})`,
    'check the network, or resolve from a local clone (FARAMESH_REGISTRY_ROOT) or a bundle (--offline --bundle)',
  );
}

function refused(what: string, url: URL, status: number, hadToken: boolean, withheld: boolean, env: Env): ImportProblem {
  const login = `faramesh auth login --registry ${url.origin}`;
  const hint = withheld
    ? `a token is set, but it is never sent over plain http to another machine; use https for ${url.origin}`
    : hadToken
      ? `the registry refused the token; log in again: ${login}`
      : env.FARAMESH_TOKEN
        ? `FARAMESH_TOKEN is sent only to FARAMESH_REGISTRY_URL's origin; for ${url.origin}: ${login}`
        : `log in first: ${login} (or set FARAMESH_REGISTRY_URL and FARAMESH_TOKEN)`;
  return importProblem('import-unauthorized', `${what}: ${url.origin} answered HTTP ${status}`, hint);
}
