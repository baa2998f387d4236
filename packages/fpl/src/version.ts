import { createHash } from 'node:crypto';
import { canonicalJson } from '@faramesh/protocol';
import type { PolicyIR } from './ir.js';

/** A compiled policy's identity: the SHA-256 of its canonical JSON. */
export function policyVersion(ir: PolicyIR): string {
  return createHash('sha256').update(canonicalJson(ir)).digest('hex');
}
