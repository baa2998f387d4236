/**
 * The daemon's reading of `runtime { … }`: typed, defaulted, `env("…")` resolved once at start.
 * An unusable value refuses to start rather than falling back silently.
 */
import { MAX_DURATION_S, parseDuration, type IRValue } from '@faramesh/fpl/runtime';
import { DEFAULT_AGENT_SOCKET, DEFAULT_WAL_DIR, resolveStackPath } from './paths.js';

export interface RuntimeSettings {
  mode: 'enforce' | 'audit';
  walDir: string;
  /** Where compaction writes archive files unless told otherwise: beside the log, never inside it. */
  walArchiveDir: string;
  agentSocket: string;
  approvalTtlMs: number;
  /** Initialization must reach READY within this, else HALT. */
  coldStartWindowMs: number;
  immutableConfig: boolean;
  /** `trust_sdk_principal`: structured principal claims count without a verified token. */
  trustSdkPrincipal: boolean;
  /** `wal_retention`: sealed log segments older than this move to archive files (see `core/log-retention.ts`). */
  walRetentionMs?: number;
  /** The HTTP channel, when `http_listen` is set (TLS when both files are). */
  http?: { host: string; port: number; tls?: { cert: string; key: string } };
}

export class SettingsError extends Error {
  override name = 'SettingsError';
}

/** A field's value with `env("X")` resolved (an unset variable refuses the start). */
export function resolvedField(v: IRValue | undefined, where: string, env: NodeJS.ProcessEnv): IRValue | undefined {
  if (v && typeof v === 'object' && !Array.isArray(v) && typeof v.$env === 'string') {
    const resolved = env[v.$env];
    if (resolved === undefined) throw new SettingsError(`${where}: environment variable ${v.$env} is not set`);
    return resolved;
  }
  return v;
}

export function runtimeSettings(runtime: Record<string, IRValue>, stackDir: string, env: NodeJS.ProcessEnv): RuntimeSettings {
  const value = (key: string): IRValue | undefined => resolvedField(runtime[key], `runtime.${key}`, env);
  const text = (key: string, fallback: string): string => {
    const v = value(key);
    if (v === undefined) return fallback;
    if (typeof v !== 'string' || v === '') throw new SettingsError(`runtime.${key} must be a non-empty string`);
    return v;
  };
  const duration = (key: string, fallback: string, alias?: string): number => {
    const raw = value(key) ?? (alias ? value(alias) : undefined) ?? fallback;
    // The compiler stores durations as seconds; env("…") gives the text.
    const seconds = typeof raw === 'number' ? raw : typeof raw === 'string' ? parseDuration(raw) : undefined;
    if (seconds === undefined || seconds <= 0 || seconds > MAX_DURATION_S)
      throw new SettingsError(
        `runtime.${key}: '${typeof raw === 'number' ? `${raw}s` : String(raw)}' is not a positive duration of at most 100 years`,
      );
    return seconds * 1000;
  };
  // Shared state is not built. A stack asking for it would believe its state and budgets fleet-wide
  // while each daemon kept its own: refused, rather than ignored. `sqlite` names the local default.
  if (value('backend') === 'postgres' || value('postgres_url') !== undefined)
    throw new SettingsError(
      'runtime.backend = "postgres" is not available in this build: state and the log are local files (.faramesh/state, wal_dir). Remove backend and postgres_url (or write backend = "sqlite", the local default)',
    );
  if (value('budget_backend') !== undefined)
    throw new SettingsError(
      'runtime.budget_backend is not available in this build: each daemon enforces its budgets itself, so a fleet-wide ceiling would be one per machine. Remove it',
    );
  const mode = text('mode', 'enforce');
  if (mode !== 'enforce' && mode !== 'audit') throw new SettingsError(`runtime.mode must be "enforce" or "audit", not "${mode}"`);
  const immutable = value('immutable_config') ?? false;
  const listen = value('http_listen');
  let http: RuntimeSettings['http'];
  if (listen !== undefined) {
    const m = typeof listen === 'string' ? /^(?:\[([0-9a-fA-F:]+)\]|([^:\s]+)):(\d{1,5})$/.exec(listen) : null;
    const port = m ? Number(m[3]) : NaN;
    if (!m || port < 0 || port > 65535)
      throw new SettingsError(`runtime.http_listen must be host:port (e.g. "127.0.0.1:8080"), not '${String(listen)}'`);
    const cert = value('tls_cert_file');
    const key = value('tls_key_file');
    if ((cert === undefined) !== (key === undefined)) throw new SettingsError('runtime.tls_cert_file and tls_key_file go together');
    http = {
      host: m[1] ?? m[2]!,
      port,
      ...(cert !== undefined
        ? {
            tls: { cert: resolveStackPath(text('tls_cert_file', ''), stackDir), key: resolveStackPath(text('tls_key_file', ''), stackDir) },
          }
        : {}),
    };
  }
  const walDir = resolveStackPath(text('wal_dir', DEFAULT_WAL_DIR), stackDir);
  return {
    mode,
    walDir,
    walArchiveDir: `${walDir.replace(/\/+$/, '')}-archive`,
    agentSocket: resolveStackPath(text('socket', DEFAULT_AGENT_SOCKET), stackDir),
    approvalTtlMs: duration('approval_ttl', '24h'),
    coldStartWindowMs: duration('cold_start_deny_window', '30s', 'cold_start_grace'),
    immutableConfig: immutable === true || immutable === 'true',
    trustSdkPrincipal: [true, 'true'].includes(value('trust_sdk_principal') as boolean | string),
    ...(value('wal_retention') !== undefined ? { walRetentionMs: duration('wal_retention', '') } : {}),
    ...(http ? { http } : {}),
  };
}
