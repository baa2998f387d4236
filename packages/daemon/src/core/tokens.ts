/**
 * Bearer tokens for the HTTP channel (and, later, the proxies). A token is either an agent's — the
 * requests it authenticates are that agent's, whatever they claim — or an operator's, which may do
 * what the operator socket does. Only SHA-256 hashes are kept (`.faramesh/keys/tokens.json`, 0600):
 * a token is shown once, when issued, and can be revoked but never read back.
 */
import { createHash, randomBytes } from 'node:crypto';
import { dirname, basename } from 'node:path';
import type { StateSeal } from '../stack/sealed-state.js';

export type TokenRole = 'agent' | 'operator';

export interface TokenEntry {
  name: string;
  role: TokenRole;
  /** For agent tokens: the agent every request made with it is. */
  agent_id?: string;
  sha256: string;
  created_at: string;
}

export type Principal = Omit<TokenEntry, 'sha256'>;

export class TokenError extends Error {
  override name = 'TokenError';
  constructor(
    readonly kind: 'not_found' | 'conflict' | 'bad_request',
    message: string,
  ) {
    super(message);
  }
}

const hash = (token: string) => createHash('sha256').update(token).digest('hex');
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export class TokenBook {
  private readonly byHash = new Map<string, TokenEntry>();
  private read = false;

  /** Sealed (see StateSeal): a token hash added by hand would be an operator nobody issued. */
  constructor(
    private readonly file: string,
    private readonly seal: StateSeal,
  ) {}

  /**
   * Read the tokens. The daemon calls this once its log has said which copy of the file is the
   * latest: until then no token authenticates, so an older copy (a revoked token) never does.
   */
  load(): void {
    this.read = true;
    this.byHash.clear();
    const saved = this.seal.read(dirname(this.file), basename(this.file)) as { tokens?: TokenEntry[] } | undefined;
    for (const t of saved?.tokens ?? []) this.byHash.set(t.sha256, t);
  }

  /** Whether load() has run: before, no token can be told valid or not. */
  get loaded(): boolean {
    return this.read;
  }

  /** Who a presented bearer token is, if anyone. */
  lookup(token: string): Principal | undefined {
    const entry = this.byHash.get(hash(token));
    if (!entry) return undefined;
    const { sha256: _hash, ...principal } = entry;
    return principal;
  }

  list(): Principal[] {
    return [...this.byHash.values()].map(({ sha256: _hash, ...p }) => p).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Make a new token (durably recorded, in its file and in the log, before it is returned); the secret exists only in the reply. */
  async issue(role: TokenRole, name: string, agentId: string | undefined, nowMs: number): Promise<{ token: string; entry: Principal }> {
    if (!NAME.test(name)) throw new TokenError('bad_request', `a token name is 1-64 letters, digits, '.', '_', '@' or '-', not '${name}'`);
    if (this.list().some((t) => t.name === name)) throw new TokenError('conflict', `a token named ${name} exists; revoke it first`);
    const token = `fmt_${randomBytes(32).toString('base64url')}`;
    const entry: TokenEntry = {
      name,
      role,
      ...(role === 'agent' ? { agent_id: agentId } : {}),
      sha256: hash(token),
      created_at: new Date(nowMs).toISOString(),
    };
    this.byHash.set(entry.sha256, entry);
    await this.save();
    const { sha256: _hash, ...principal } = entry;
    return { token, entry: principal };
  }

  /** Revoke at once; resolves once the log records the file without it, so no older copy can bring it back. */
  async revoke(name: string): Promise<Principal> {
    const entry = [...this.byHash.values()].find((t) => t.name === name);
    if (!entry) throw new TokenError('not_found', `no token named ${name}`);
    this.byHash.delete(entry.sha256);
    await this.save();
    const { sha256: _hash, ...principal } = entry;
    return principal;
  }

  private async save(): Promise<void> {
    // Saving a book never read would drop every token in the file.
    if (!this.read) throw new Error('the tokens were changed before the token file was read');
    await this.seal.write(dirname(this.file), basename(this.file), { tokens: [...this.byHash.values()] });
  }
}
