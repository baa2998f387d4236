/**
 * `faramesh auth login|logout|whoami`: tokens for private registries. A token is read from stdin (or
 * typed at a prompt that does not echo), checked against the registry, and kept by origin in
 * `~/.faramesh/registry-auth.json` (0600). Only its digest is ever printed.
 */
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { makeOut, snakeKeys, table, type Out } from '../../output.js';
import { registryHttp } from '../../registry/http.js';
import { fingerprint, loginsPath, readLogins, writeLogins, type Login } from '../../registry/logins.js';
import { envTokenOrigin, loginOrigin, loginSource, TOKEN_TEXT, type RegistrySource } from '../../registry/sources.js';

interface Common {
  noColor?: boolean;
}

export async function authLogin(o: Common & { registry: string; verify: boolean }): Promise<number> {
  const out = makeOut(o.noColor);
  const target = resolveTarget(o.registry, out);
  if (!target) return 64;
  const token = (await readToken(`token for ${target.origin}: `)).trim();
  if (!token) {
    out.error(out.fail('no token given (pipe it on stdin, or type it at the prompt)'));
    return 64;
  }
  if (!TOKEN_TEXT.test(token)) {
    out.error(out.fail('that is not a token: a token is printable ASCII, without spaces or control characters'));
    return 64;
  }
  if (o.verify) {
    const check = await checkToken(target.source, token);
    if (check.status !== 'accepted') {
      out.error(out.fail(`${target.origin} ${check.detail}; the token was not stored`));
      if (check.status === 'unreachable') out.note('  to store it anyway: faramesh auth login --no-verify');
      return check.status === 'refused' ? 1 : 2;
    }
  }
  let logins: Map<string, Login>;
  try {
    logins = readLogins();
    logins.set(target.origin, { registry: o.registry, token, saved_at: new Date().toISOString() });
    writeLogins(logins);
  } catch (e) {
    out.error(out.fail((e as Error).message));
    return 1;
  }
  out.print(
    out.ok(`logged in to ${target.origin} (token ${fingerprint(token)}${o.verify ? ', accepted by the registry' : ', not checked'})`),
  );
  return 0;
}

export function authLogout(o: Common & { registry: string }): number {
  const out = makeOut(o.noColor);
  const target = resolveTarget(o.registry, out);
  if (!target) return 64;
  try {
    const logins = readLogins();
    if (!logins.delete(target.origin)) {
      out.print(`not logged in to ${target.origin}`);
      return 0;
    }
    writeLogins(logins);
  } catch (e) {
    out.error(out.fail((e as Error).message));
    return 1;
  }
  out.done(`logged out of ${target.origin}`);
  return 0;
}

/** Which tokens the CLI holds, and whether each registry accepts its token now. */
export async function authWhoami(o: Common & { format: 'text' | 'json' }): Promise<number> {
  const out = makeOut(o.noColor);
  let logins: Map<string, Login>;
  try {
    logins = readLogins();
  } catch (e) {
    out.error(out.fail((e as Error).message));
    return 1;
  }
  const rows = await Promise.all(
    [...logins].map(async ([origin, l]) => {
      let source: RegistrySource | undefined;
      try {
        source = loginSource(l.registry);
      } catch {
        // A login whose registry name no longer parses is still listed.
      }
      const check = !l.token
        ? { status: 'unusable', detail: 'unusable token (not sent): log in again' }
        : source
          ? await checkToken(source, l.token)
          : { status: 'unchecked', detail: 'not checked' };
      return {
        origin,
        registry: l.registry,
        token: l.token ? fingerprint(l.token) : '-',
        savedAt: l.saved_at,
        status: check.status,
        detail: check.detail,
      };
    }),
  );
  const envOrigin = envTokenOrigin();
  const env = process.env.FARAMESH_TOKEN ? { token: fingerprint(process.env.FARAMESH_TOKEN), sentTo: envOrigin ?? null } : undefined;
  if (o.format === 'json') {
    out.print(JSON.stringify(snakeKeys({ logins: rows, faramesh_token: env ?? null, file: loginsPath() }), null, 2));
    return rows.length > 0 || env ? 0 : 1;
  }
  if (env)
    out.print(
      envOrigin
        ? `FARAMESH_TOKEN is set (${env.token}): sent to ${envOrigin} (FARAMESH_REGISTRY_URL), in place of a login there`
        : `FARAMESH_TOKEN is set (${env.token}) but sent nowhere: it goes only to FARAMESH_REGISTRY_URL, which is not set`,
    );
  if (rows.length === 0) {
    if (!env) out.error('not logged in to any registry (faramesh auth login --registry <name>)');
    return env ? 0 : 1;
  }
  out.print(
    table(
      ['ORIGIN', 'REGISTRY', 'TOKEN', 'SAVED', 'NOW'],
      rows.map((r) => [r.origin, r.registry, r.token, r.savedAt, r.detail]),
    ),
  );
  return 0;
}

/** The origin a login is kept under, and the source to check a token against. */
function resolveTarget(registry: string, out: Out): { origin: string; source: RegistrySource } | undefined {
  try {
    return { origin: loginOrigin(registry), source: loginSource(registry) };
  } catch (e) {
    out.error(out.fail((e as Error).message));
    return undefined;
  }
}

/** Ask the registry for its index with this token alone: an HTTP registry's well-known document, or the catalog file. */
async function checkToken(
  source: RegistrySource,
  token: string,
): Promise<{ status: 'accepted' | 'refused' | 'unreachable'; detail: string }> {
  if (source.kind === 'local') return { status: 'accepted', detail: 'a local registry' };
  const origin = new URL(source.base).origin;
  const http = registryHttp({}, () => new Map([[origin, { registry: origin, token, saved_at: '' }]]));
  const path = source.kind === 'api' ? '.well-known/faramesh.json' : 'catalog.json';
  const got = await http.get(source.base + path, 'the registry index');
  if ('bytes' in got) return { status: 'accepted', detail: 'accepted' };
  if ('missing' in got) return { status: 'unreachable', detail: `has no ${path} (is it a Faramesh registry?)` };
  if (got.error.code === 'import-unauthorized')
    return { status: 'refused', detail: `refused the token (${got.error.message.replace(/^.*: /, '')})` };
  return { status: 'unreachable', detail: got.error.message.replace(/^the registry index: /, '') };
}

/** The whole of stdin when it is piped; a prompt that does not echo on a terminal. */
async function readToken(prompt: string): Promise<string> {
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  process.stderr.write(prompt);
  const silent = new Writable({ write: (_chunk, _enc, done) => done() });
  const rl = createInterface({ input: process.stdin, output: silent, terminal: true });
  try {
    return await new Promise<string>((resolve) => rl.question('', resolve));
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}
