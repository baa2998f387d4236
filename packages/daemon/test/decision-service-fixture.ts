/**
 * The decision path without a daemon: a DecisionService over one policy, with a fresh log, engine
 * state and approval book. `deps` replaces any of its dependencies (the clock, credentials…), and
 * `principals` the policy's token gate.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '@faramesh/audit';
import { compile, Source } from '@faramesh/fpl';
import { emptyState, prepare } from '@faramesh/engine';
import { ApprovalBook } from '../src/core/approvals.js';
import { DecisionService, type DecisionDeps } from '../src/core/decisions.js';
import { PrincipalGate } from '../src/core/principals.js';
import type { Issued } from '../src/credentials/broker.js';

export async function decisionService(policy: string, deps: Partial<DecisionDeps> = {}, principals?: unknown) {
  const dir = mkdtempSync(join(tmpdir(), 'fm-decisions-'));
  const walDir = join(dir, 'wal');
  const { log } = await AuditLog.open(walDir);
  const compiled = compile(new Source('governance.fms', policy), { env: {} });
  assert.ok(compiled.ir, 'the policy compiles');
  const state = emptyState();
  const approvals = new ApprovalBook(60_000);
  const decisions = new DecisionService(
    {
      compiled,
      prepared: prepare(compiled.ir),
      principals: principals ?? new PrincipalGate([], dir, {}, false),
      appliedAt: new Date().toISOString(),
      mode: 'enforce',
    } as never,
    { log, state, approvals, saveApprovals: () => {}, now: Date.now, delegation: {} as never, ...deps },
  );
  return { dir, walDir, log, state, approvals, decisions };
}

/** A credential as the broker issues one, good for a minute (for tests that hold a fetch open). */
export function issuedSecret(): Issued {
  return {
    ok: true,
    value: 'secret',
    header: 'authorization',
    expires_at: new Date(Date.now() + 60_000).toISOString(),
    ref: {} as never,
  };
}
