/**
 * `faramesh audit compact` while no daemon runs: the CLI does what the daemon would
 * (`log-retention.ts`), from the stack's own files. It uses the compiled policy the daemon last
 * loaded (its signature checked) for the log's place, signer and sinks. It opens the log, which
 * takes the writer's lock, so a daemon starting meanwhile is refused rather than writing beside it.
 * It rebuilds the engine state from the snapshot and the log's tail, and snapshots it afresh for the
 * base to carry. It reads the sinks' saved positions, so records not yet shipped stay live.
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { AuditLog, encodeVerifierKey, loadStackSigner, originFor, pinKey, publicKeyFile, readVerifierKeys } from '@faramesh/audit';
import { checkpointSigner } from '../signing/checkpoint-signer.js';
import { loadCompiled } from '../stack/compiled.js';
import { stackPaths } from '../stack/paths.js';
import { StateSeal } from '../stack/sealed-state.js';
import { runtimeSettings } from '../stack/settings.js';
import { ShippedPositions } from '../outbound/sinks.js';
import { compactLog } from './log-retention.js';
import { restoreState, StateSnapshots } from './state-snapshot.js';

export interface StoppedCompaction {
  stackDir: string;
  olderThanMs: number;
  nowMs: number;
  /** Default: the stack's archive directory, beside `wal_dir`. */
  archiveDir?: string;
  by: string;
  env: NodeJS.ProcessEnv;
  say: (line: string) => void;
}

export async function compactStopped(o: StoppedCompaction): ReturnType<typeof compactLog> {
  const paths = stackPaths(o.stackDir);
  if (!existsSync(paths.compiled)) throw new Error(`no compiled policy at ${paths.compiled}: run faramesh apply`);
  const verifiers = readVerifierKeys(publicKeyFile(paths.stackDir));
  const compiled = loadCompiled(paths.compiled, paths.signature, verifiers);
  const stackKey = loadStackSigner(paths.stackDir, originFor(basename(paths.stackDir)));
  const seal = new StateSeal(stackKey, verifiers);
  const settings = runtimeSettings(compiled.ir.runtime, paths.stackDir, o.env);
  // The daemon's own signer: a checkpoint under another key would read as a key rotation.
  const active = await checkpointSigner(compiled.ir, o.env, stackKey);
  if (active.provider) pinKey(paths.stackDir, encodeVerifierKey(active.signer));
  // Opening would create a log where none is (wal_dir from another environment, a volume not
  // mounted) and snapshot the engine state for it: there is nothing to compact there.
  if (!existsSync(settings.walDir)) throw new Error(`there is no log at ${settings.walDir} (runtime.wal_dir)`);
  const { log, report } = await AuditLog.open(settings.walDir, { warn: o.say, signer: active.signer });
  try {
    if (report.truncated)
      o.say(`audit log: cut a torn final write (never acknowledged) of ${report.truncated.bytes} bytes at ${report.truncated.segment}`);
    const restored = restoreState(paths.state, settings.walDir, log.size, seal);
    const facts = { quiesced: restored.quiesced, sealed: restored.sealed };
    const snapshots = new StateSnapshots(
      seal,
      paths.state,
      settings.walDir,
      log,
      () => ({
        state: restored.state,
        facts: restored.lastPolicyVersion !== undefined ? { ...facts, lastPolicyVersion: restored.lastPolicyVersion } : facts,
      }),
      o.nowMs,
    );
    return await compactLog({
      log,
      snapshots,
      stateDir: paths.state,
      sinks: ShippedPositions.saved(compiled.ir.providers, paths.state, seal, settings.walDir, log.tip()),
      olderThanMs: o.olderThanMs,
      nowMs: o.nowMs,
      archiveDir: o.archiveDir ?? settings.walArchiveDir,
      by: o.by,
    });
  } finally {
    await log.close();
  }
}
