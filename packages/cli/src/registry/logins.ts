/**
 * Registry logins (`faramesh auth login`): bearer tokens kept in `~/.faramesh/registry-auth.json`,
 * readable by the user alone, one per registry origin.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { TOKEN_TEXT } from './sources.js';

export interface Login {
  /** The registry as given to `auth login` (a name like `registry.internal`, or a URL). */
  registry: string;
  /** Empty when the stored one is unusable (not printable ASCII): it is never sent, and a new login replaces it. */
  token: string;
  saved_at: string;
}

interface LoginFile {
  format: 'faramesh-registry-auth/1';
  logins: Record<string, Login>;
}

export function loginsPath(): string {
  return join(homedir(), '.faramesh', 'registry-auth.json');
}

/**
 * Every stored login by origin. Throws when the file is unreadable, malformed, or readable by others;
 * one unusable entry only makes that entry's token empty, so the others, and `auth login`, still work.
 */
export function readLogins(path = loginsPath()): Map<string, Login> {
  let text: string;
  try {
    const { mode } = statSync(path);
    if ((mode & 0o077) !== 0) throw new Error(`${path} is open to other users (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${path}`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${path} is not valid JSON; delete it and log in again`);
  }
  const logins = (json as Partial<LoginFile> | null)?.logins;
  if (typeof logins !== 'object' || logins === null || Array.isArray(logins)) throw new Error(`${path} has no 'logins' object`);
  const out = new Map<string, Login>();
  for (const [origin, l] of Object.entries(logins)) {
    const token = typeof l?.token === 'string' && TOKEN_TEXT.test(l.token) ? l.token : '';
    out.set(origin, { registry: String(l?.registry ?? origin), token, saved_at: String(l?.saved_at ?? '') });
  }
  return out;
}

/** Replace the stored logins, atomically and 0600 (the directory 0700). */
export function writeLogins(logins: Map<string, Login>, path = loginsPath()): void {
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
  const file: LoginFile = { format: 'faramesh-registry-auth/1', logins: Object.fromEntries(logins) };
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(tmp, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 });
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** What may be shown of a token: a short digest, never the token. */
export function fingerprint(token: string): string {
  return `sha256:${createHash('sha256').update(token).digest('hex').slice(0, 12)}`;
}
