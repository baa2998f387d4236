/** Reading a `provider` block's fields: `env("…")` resolved, durations in seconds, types checked. */
import { parseDuration, type IRValue, type ProviderIR } from '@faramesh/fpl/runtime';
import { resolvedField } from '../stack/settings.js';

export interface ProviderFields {
  /** A string field (after `env()`), or undefined. */
  str(name: string): string | undefined;
  /** A string field that must be there. */
  need(name: string): string;
  /** A duration or number field in seconds (`max_ttl = "5m"` compiles to seconds, or stays text). */
  seconds(name: string): number | undefined;
  /** A boolean field: `true`, or the text "true" (`env("…")` gives text); undefined or false is false. */
  flag(name: string): boolean;
  raw(name: string): IRValue | undefined;
  /** `timeout` (default 5 s) in milliseconds: how long one call to the provider may take. */
  timeoutMs: number;
}

export function providerFields(p: ProviderIR, env: NodeJS.ProcessEnv): ProviderFields {
  const raw = (name: string) => resolvedField(p.fields[name], `provider "${p.name}" ${name}`, env);
  const str = (name: string) => {
    const v = raw(name);
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const seconds = (name: string) => durationSeconds(raw(name));
  return {
    raw,
    str,
    need(name) {
      const v = str(name);
      if (v === undefined) throw new Error(`provider "${p.name}" (${p.type}) needs ${name}`);
      return v;
    },
    seconds,
    flag(name) {
      const v = raw(name);
      if (v === undefined || v === false || v === 'false') return false;
      if (v === true || v === 'true') return true;
      throw new Error(`provider "${p.name}" ${name} must be true or false, not ${JSON.stringify(v)}`);
    },
    timeoutMs: (seconds('timeout') ?? 5) * 1000,
  };
}

/** Any FPL duration (`90s`, `1h30m`, `1d`), or a bare number of seconds. */
function durationSeconds(v: IRValue | undefined): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return undefined;
  const text = v.trim();
  return /^\d+$/.test(text) ? Number(text) : parseDuration(text);
}
