/**
 * The daemon's own files outside the log — approvals, quiesced agents, the policy history, the
 * engine-state snapshot, the sinks' positions, the HTTP token hashes — are sealed with the stack key
 * (ed25519, `.faramesh/keys/`), as the compiled policy is. A file edited by hand (an approval marked
 * approved, a budget counter reset, an operator token added) fails verification when the daemon
 * reads it back, and the daemon says which file. Like the log's local-key checkpoints, this stops
 * anyone who can write these files but not read the key; whoever can read the key can re-seal.
 *
 * A sealed file is JSON: `{ "sealed": <name>, "body": "<the state as a JSON string>", "signature":
 * "<base64 key id ‖ ed25519 signature>" }`. The signature covers `faramesh-state/1`, the file's name
 * and the body's exact bytes, so a file cannot be moved to another name nor re-encoded.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyId, verifySignature, writeDurable, type Ed25519Signer, type Verifier } from '@faramesh/audit';

const DOMAIN = 'faramesh-state/1';

export class TamperedStateError extends Error {
  override name = 'TamperedStateError';
}

interface SealedFile {
  sealed: string;
  body: string;
  signature: string;
}

export class StateSeal {
  constructor(
    private readonly key: Ed25519Signer,
    /** The pinned keys (`audit.pub`): files sealed before a key rotation still open. */
    private readonly verifiers: readonly Verifier[],
  ) {}

  /** The file text that holds `value` as `name`. */
  seal(name: string, value: unknown): string {
    const body = JSON.stringify(value);
    const signature = Buffer.concat([keyId(this.key), this.key.signSync(message(name, body))]).toString('base64');
    return JSON.stringify({ sealed: name, body, signature } satisfies SealedFile);
  }

  /** The value sealed in `text` as `name`; throws TamperedStateError unless a pinned key sealed exactly that. */
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
    const raw = Buffer.from(file.signature, 'base64');
    const id = raw.subarray(0, 4);
    const signer = this.verifiers.find((v) => v.type === 'ed25519' && Buffer.from(keyId(v)).equals(id));
    if (!signer || !verifySignature(signer, message(name, file.body), raw.subarray(4)))
      throw new TamperedStateError(`${name} was changed outside the daemon: its seal does not verify against the stack key`);
    return JSON.parse(file.body) as unknown;
  }

  /** Read and open `dir/name`; undefined when there is no such file. */
  read(dir: string, name: string): unknown {
    const file = join(dir, name);
    return existsSync(file) ? this.open(name, readFileSync(file, 'utf8')) : undefined;
  }

  /** Seal `value` and replace `dir/name` with it durably. */
  write(dir: string, name: string, value: unknown): void {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeDurable(dir, name, this.seal(name, value));
  }
}

const message = (name: string, body: string): Buffer => Buffer.from(`${DOMAIN}\n${name}\n${body}`, 'utf8');
