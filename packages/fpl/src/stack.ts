import { existsSync, readFileSync, statSync } from 'node:fs';
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
  if (present.length === 0) throw new StackError(`no governance.fms in ${dir} (looked for ${STACK_FILES.join(', ')})`);
  if (present.length > 1) throw new StackError(`${dir} has ${present.join(' and ')}: keep one policy file per stack`);
  const path = join(dir, present[0]!);
  if (!statSync(path).isFile()) throw new StackError(`${path} is not a file`);
  const { text, invalidUtf8At } = decodePolicyBytes(readFileSync(path));
  return { dir, path, source: new Source(present[0]!, text), ...(invalidUtf8At !== undefined ? { invalidUtf8At } : {}) };
}
