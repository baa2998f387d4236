/**
 * The daemon's own files outside the log — approvals, the policy history, the engine-state
 * snapshot, the sinks' positions, the HTTP token hashes — are sealed with the stack key (ed25519,
 * `.faramesh/keys/`), as the compiled policy is. A file edited by hand (an approval marked
 * approved, a budget counter reset, an operator token added) fails verification when the daemon
 * reads it back, and the daemon says which file. Like the log's local-key checkpoints, this stops
 * anyone who can write these files but not read the key; whoever can read the key can re-seal.
 *
 * A seal binds a name and bytes, not an age, so each write also carries a generation, one more than
 * the last. For the anchored files (see ANCHORED) every generation is recorded in the log
 * (`state_sealed`), and once the daemon knows the log's latest, a copy older than it is refused: a
 * backup put back cannot make a spent approval usable again or bring back a revoked token.
 *
 * A sealed file is JSON: `{ "sealed": <name>, "generation": <n>, "body": "<the state as a JSON
 * string>", "signature": "<base64 key id ‖ ed25519 signature>" }`. The signature covers
 * `faramesh-state/2`, the name, the generation and the body's exact bytes, so a file cannot be moved
 * to another name, renumbered nor re-encoded. Files of the first format (no generation) open as
 * generation 0.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyId, verifySignature, writeDurable, type Ed25519Signer, type Verifier } from '@faramesh/audit';

const DOMAIN = 'faramesh-state/2';
const DOMAIN_V1 = 'faramesh-state/1';

/**
 * The files whose every version the log records. Each is safe to lose (the daemon starts without
 * it and fails closed: no approvals, no tokens, no rollback history) but not safe to roll back.
 * The engine-state snapshot and the sinks' positions are not anchored: an older snapshot only means
 * a longer replay, and older positions re-deliver records a sink has had.
 */
export const ANCHORED: ReadonlySet<string> = new Set(['approvals.json', 'policy-history.json', 'tokens.json']);

export class TamperedStateError extends Error {
  override name = 'TamperedStateError';
}

/** A file's latest generation as the log records it: `body_sha256` absent means it was found removed. */
export interface LoggedState {
  generation: number;
  body_sha256?: string;
  /** The record that says so (for messages). */
  seq?: number;
}

/** What a `state_sealed` record holds. */
export interface StateSealedFields {
  file: string;
  generation: number;
  body_sha256?: string;
}

interface SealedFile {
  sealed: string;
  generation?: number;
  body: string;
  signature: string;
}

export class StateSeal {
  /** Each file's generation and content hash, as last opened or written. */
  private readonly seen = new Map<string, { generation: number; body_sha256: string }>();
  /** The log's latest generation of each anchored file, once anchor() has run. */
  private logged?: Map<string, LoggedState>;
  /** Appends a `state_sealed` record; set by anchor(). */
  private record?: (fields: StateSealedFields) => Promise<{ seq: number }>;

  constructor(
    private readonly key: Ed25519Signer,
    /** The pinned keys (`audit.pub`): files sealed before a key rotation still open. */
    private readonly verifiers: readonly Verifier[],
  ) {}

  /** The file text that holds `value` as `name`, at `generation`. */
  seal(name: string, value: unknown, generation = 0): string {
    return this.envelope(name, JSON.stringify(value), generation);
  }

  private envelope(name: string, body: string, generation: number): string {
    const signature = Buffer.concat([keyId(this.key), this.key.signSync(message(name, generation, body))]).toString('base64');
    return JSON.stringify({ sealed: name, generation, body, signature } satisfies SealedFile);
  }

  /**
   * The value sealed in `text` as `name`; throws TamperedStateError unless a pinned key sealed
   * exactly that, and, for an anchored file once the log is known, unless it is the latest copy.
   */
  open(name: string, text: string): unknown {
    let file: Partial<SealedFile>;
    try {
      file = JSON.parse(text) as Partial<SealedFile>;
    } catch {
      throw new TamperedStateError(`${name} is not a sealed state file (not JSON)`);
    }
    if (typeof file?.body !== 'string' || typeof file.signature !== 'string')
      throw new TamperedStateError(`${name} is not a sealed state file (no body and signature)`);
    if (file.sealed !== name) throw new TamperedStateError(`${name} holds the state sealed as ${String(file.sealed)}`);
    const generation = file.generation;
    if (generation !== undefined && !(Number.isSafeInteger(generation) && generation >= 0))
      throw new TamperedStateError(`${name} was changed outside the daemon: its generation is not a count`);
    const raw = Buffer.from(file.signature, 'base64');
    const id = raw.subarray(0, 4);
    const signer = this.verifiers.find((v) => v.type === 'ed25519' && Buffer.from(keyId(v)).equals(id));
    if (!signer || !verifySignature(signer, message(name, generation, file.body), raw.subarray(4)))
      throw new TamperedStateError(`${name} was changed outside the daemon: its seal does not verify against the stack key`);
    const seen = { generation: generation ?? 0, body_sha256: sha256(file.body) };
    this.refuseStale(name, seen);
    this.seen.set(name, seen);
    return JSON.parse(file.body) as unknown;
  }

  /** Read and open `dir/name`; undefined when there is no such file. */
  read(dir: string, name: string): unknown {
    const file = join(dir, name);
    return existsSync(file) ? this.open(name, readFileSync(file, 'utf8')) : undefined;
  }

  /**
   * Seal `value` as the next generation and replace `dir/name` with it durably; the log hears of it
   * after. For an anchored file, the returned promise resolves once that record is durable: a change
   * acknowledged before then (a token revoked) could be undone by a crash and the older copy put back,
   * which the log would still call the latest.
   */
  write(dir: string, name: string, value: unknown): Promise<unknown> | undefined {
    const generation = Math.max(this.seen.get(name)?.generation ?? 0, this.logged?.get(name)?.generation ?? 0) + 1;
    const body = JSON.stringify(value);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeDurable(dir, name, this.envelope(name, body, generation));
    const body_sha256 = sha256(body);
    this.seen.set(name, { generation, body_sha256 });
    // A crash between the file and its record leaves the file one generation ahead of the log:
    // accepted on the next start, which records it then.
    if (this.logged && ANCHORED.has(name)) return this.note({ file: name, generation, body_sha256 });
    return undefined;
  }

  /**
   * Bind the anchored files to the log. `logged` is the latest `state_sealed` of each, from the
   * replay; `dirs` says where each lives. Every anchored file is opened now (an older copy refuses
   * the start), and the log catches up on what it has not heard: a file written just before a crash,
   * a file removed while the daemon was stopped. From here on, every write is recorded. Resolves
   * once the catch-up records are appended.
   */
  anchor(
    logged: Readonly<Record<string, LoggedState>>,
    dirs: Readonly<Record<string, string>>,
    record: (fields: StateSealedFields) => Promise<{ seq: number }>,
  ): Promise<unknown> {
    this.logged = new Map(Object.entries(logged));
    const catchUp: StateSealedFields[] = [];
    for (const name of ANCHORED) {
      const dir = dirs[name];
      if (dir === undefined) throw new Error(`no directory for the state file ${name}`);
      const last = this.logged.get(name);
      if (existsSync(join(dir, name))) {
        this.read(dir, name);
        const seen = this.seen.get(name)!;
        if (seen.generation > 0 && seen.generation !== last?.generation) catchUp.push({ file: name, ...seen });
      } else if (last?.body_sha256 !== undefined) {
        // Removed while stopped: the daemon starts without it, and an older copy stays refused.
        catchUp.push({ file: name, generation: last.generation + 1 });
      }
    }
    this.record = record;
    return Promise.all(catchUp.map((fields) => this.note(fields)));
  }

  /** The log's latest generation of each anchored file, for the engine-state snapshot. */
  loggedState(): Record<string, LoggedState> {
    return Object.fromEntries(this.logged ?? []);
  }

  private note(fields: StateSealedFields): Promise<unknown> | undefined {
    const logged: LoggedState = { generation: fields.generation, ...(fields.body_sha256 ? { body_sha256: fields.body_sha256 } : {}) };
    this.logged!.set(fields.file, logged);
    const appended = this.record?.(fields);
    // The record's position, once known, goes into what the snapshot keeps (for the start's messages).
    appended?.then(
      (r) => (logged.seq = r.seq),
      () => {},
    );
    return appended;
  }

  private refuseStale(name: string, seen: { generation: number; body_sha256: string }): void {
    const last = this.logged?.get(name);
    if (!last || !ANCHORED.has(name) || seen.generation > last.generation) return;
    if (seen.generation === last.generation && seen.body_sha256 === last.body_sha256) return;
    const where = last.seq !== undefined ? ` (record ${last.seq})` : '';
    const remedy = 'put back the copy the daemon wrote last, or remove the file to start without what it held';
    if (last.body_sha256 === undefined)
      throw new TamperedStateError(
        `${name} is a copy from before the daemon found it removed and started without it${where}: remove it again, or put back a later copy`,
      );
    throw new TamperedStateError(
      seen.generation < last.generation
        ? `${name} is an older copy (generation ${seen.generation}) than the daemon last wrote (generation ${last.generation}${where}): ${remedy}`
        : `${name} is not the copy the log records for generation ${seen.generation}${where}: ${remedy}`,
    );
  }
}

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

const message = (name: string, generation: number | undefined, body: string): Buffer =>
  Buffer.from(generation === undefined ? `${DOMAIN_V1}\n${name}\n${body}` : `${DOMAIN}\n${name}\n${generation}\n${body}`, 'utf8');
