import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { decodePolicyBytes, Source } from './syntax/source.js';

/** The names a stack's policy may have; a stack holds exactly one of them. */
export const STACK_FILES = ['governance.fms', 'governance.fms.yaml', 'governance.fms.yml', 'governance.fms.json'] as const;

export interface Stack {
  dir: string;
  path: string;
  source: Source;
  /** Byte offset of the first invalid UTF-8 sequence, if any (the text holds U+FFFD there). */
  invalidUtf8At?: number;
}

export class StackError extends Error {
  override name = 'StackError';
}

/** Find and read the stack's policy file. */
export function loadStack(dir: string): Stack {
  const present = STACK_FILES.filter((f) => existsSync(join(dir, f)));
  // existsSync says false for a file it may not look at: a directory this user cannot enter is not an empty one.
  if (present.length === 0) unreadable(dir, constants.X_OK);
  if (present.length === 0) throw new StackError(`no governance.fms in ${dir} (looked for ${STACK_FILES.join(', ')})`);
  if (present.length > 1) throw new StackError(`${dir} has ${present.join(' and ')}: keep one policy file per stack`);
  const path = join(dir, present[0]!);
  if (!statSync(path).isFile()) throw new StackError(`${path} is not a file`);
  unreadable(path, constants.R_OK);
  const { text, invalidUtf8At } = decodePolicyBytes(readFileSync(path));
  return { dir, path, source: new Source(present[0]!, text), ...(invalidUtf8At !== undefined ? { invalidUtf8At } : {}) };
}

/** A StackError when this user may not read (or enter) `path`, rather than a stack trace or a wrong "no policy". */
function unreadable(path: string, mode: number): void {
  try {
    accessSync(path, mode);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw new StackError(`${path} cannot be read by this user (${code}): check its permissions`);
  }
}
