/**
 * How each audit sink type takes a batch of records over the wire: the request a batch becomes,
 * and whether the reply means every record landed. The sink stream is a copy of the log for
 * SIEMs; the log stays the authority, so a batch is resent until it lands (elastic's `create`
 * with the record id as `_id` makes a resend harmless there).
 */
import { hostname } from 'node:os';
import type { ProviderIR } from '@faramesh/fpl/runtime';
import { resolvedField, SettingsError } from '../stack/settings.js';
import { s3Shipper } from './s3-sink.js';
import { gcsShipper } from './gcs-sink.js';
import { elasticShipper } from './elastic-sink.js';

/** A record as shipped: the stored record, plus its redacted arguments when this daemon still holds them. */
export type SinkEvent = Record<string, unknown>;

export interface SinkRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface SinkFormat {
  name: string;
  type: string;
  /** `stdout`: JSON Lines on the daemon's standard output, no request. */
  request?: (events: SinkEvent[]) => SinkRequest;
  /** A delivery that may take more than one POST (elastic's records resent in another shape): deliver a batch, or say why not. */
  send?: (events: SinkEvent[]) => Promise<string | undefined>;
  /** Sinks that are not one POST (object stores): deliver a batch, or say why not. */
  ship?: (events: SinkEvent[]) => Promise<string | undefined>;
  /** How long new records gather before a batch goes (default 20 ms; object stores wait longer, for fewer, larger objects). */
  gatherMs?: number;
}

/** Sink providers: `stdout` and every `*-sink`. */
export const isSinkType = (type: string): boolean => type === 'stdout' || type.endsWith('-sink');

export function sinkFormat(p: ProviderIR, env: NodeJS.ProcessEnv): SinkFormat {
  const where = `provider "${p.name}"`;
  const field = (key: string, required = false): string | undefined => {
    const v = resolvedField(p.fields[key], `${where}.${key}`, env);
    if (v === undefined || v === null) {
      if (required) throw new SettingsError(`${where} (${p.type}) needs ${key}`);
      return undefined;
    }
    if (typeof v !== 'string' || v === '') throw new SettingsError(`${where}.${key} must be a non-empty string`);
    return v;
  };
  const url = (key: string, required = true): string | undefined => {
    const u = field(key, required);
    if (u !== undefined && !/^https?:\/\/[^/]/.test(u)) throw new SettingsError(`${where}.${key} must be an http(s) URL`);
    // Credentials in the URL are never sent (fetch refuses them) and would be shown in every error.
    if (u !== undefined && /^https?:\/\/[^/?#]*@/.test(u))
      throw new SettingsError(
        `${where}.${key} must not carry a user name or password (user:password@): use the provider's token, api_key or headers`,
      );
    if (u !== undefined && !URL.canParse(u)) throw new SettingsError(`${where}.${key} is not a valid URL`);
    return u?.replace(/\/+$/, '');
  };
  /** A field sent in a header (a token, an API key). */
  const secret = (key: string, required = false): string | undefined => {
    const v = field(key, required);
    if (v !== undefined) headerCheck(`${where}.${key}`, 'authorization', v);
    return v;
  };
  const json = { 'content-type': 'application/json' };
  const host = hostname();
  switch (p.type) {
    case 'stdout':
      return { name: p.name, type: p.type };
    case 'webhook-sink': {
      const target = url('url')!;
      const token = secret('token');
      const extra = p.fields.headers;
      const headers: Record<string, string> = { ...json, ...(token ? { authorization: `Bearer ${token}` } : {}) };
      if (extra && typeof extra === 'object' && !Array.isArray(extra))
        for (const [k, v] of Object.entries(extra)) {
          const value = resolvedField(v, `${where}.headers.${k}`, env);
          if (typeof value !== 'string') throw new SettingsError(`${where}.headers.${k} must be a string`);
          headerCheck(`${where}.headers.${k}`, k, value);
          headers[k.toLowerCase()] = value;
        }
      return {
        name: p.name,
        type: p.type,
        request: (events) => ({ url: target, headers, body: JSON.stringify({ source: 'faramesh', host, records: events }) }),
      };
    }
    case 'splunk-sink': {
      const base = url('url')!;
      const target = /\/services\/collector(\/event)?$/.test(base) ? base : `${base}/services/collector/event`;
      const token = secret('token', true)!;
      const index = field('index');
      return {
        name: p.name,
        type: p.type,
        // HEC takes a batch as event objects one after another.
        request: (events) => ({
          url: target,
          headers: { ...json, authorization: `Splunk ${token}` },
          body: events
            .map((e) =>
              JSON.stringify({
                time: Date.parse(String(e.time)) / 1000,
                host,
                source: 'faramesh',
                sourcetype: 'faramesh:dpr',
                ...(index ? { index } : {}),
                event: e,
              }),
            )
            .join('\n'),
        }),
      };
    }
    case 'datadog-sink': {
      const target = url('url', false) ?? `https://http-intake.logs.${field('site') ?? 'datadoghq.com'}/api/v2/logs`;
      if (!URL.canParse(target)) throw new SettingsError(`${where}.site is not a host name`);
      const key = secret('api_key', true)!;
      return {
        name: p.name,
        type: p.type,
        request: (events) => ({
          url: target,
          headers: { ...json, 'dd-api-key': key },
          body: JSON.stringify(
            events.map((e) => ({
              ddsource: 'faramesh',
              service: 'faramesh',
              hostname: host,
              ddtags: [
                e.agent_id ? `agent:${String(e.agent_id)}` : '',
                e.effect ? `effect:${String(e.effect)}` : '',
                `type:${String(e.type)}`,
              ]
                .filter(Boolean)
                .join(','),
              message: JSON.stringify(e),
            })),
          ),
        }),
      };
    }
    case 'elastic-sink': {
      const base = url('url')!;
      const key = secret('api_key');
      const headers = { 'content-type': 'application/x-ndjson', ...(key ? { authorization: `ApiKey ${key}` } : {}) };
      return { name: p.name, type: p.type, send: elasticShipper(`${base}/_bulk`, headers, field('index') ?? 'faramesh-decisions') };
    }
    case 's3-sink': {
      const pathStyle = resolvedField(p.fields.path_style, `${where}.path_style`, env);
      if (pathStyle !== undefined && typeof pathStyle !== 'boolean') throw new SettingsError(`${where}.path_style must be true or false`);
      const store = { region: field('region', true)!, bucket: field('bucket', true)!, prefix: folder(field('prefix')) };
      return objectStore(p, s3Shipper({ ...store, pathStyle: pathStyle === true }, OBJECT_TIMEOUT_MS));
    }
    case 'gcs-sink': {
      const [project, endpoint] = [field('project'), field('endpoint')];
      const store = { bucket: field('bucket', true)!, prefix: folder(field('prefix')) };
      return objectStore(
        p,
        gcsShipper({ ...store, ...(project ? { project } : {}), ...(endpoint ? { endpoint } : {}) }, OBJECT_TIMEOUT_MS),
      );
    }
    default:
      // The policy schema names every sink type there is; one without a delivery here is refused, not ignored.
      throw new SettingsError(`${where}: ${p.type} is not delivered by this build`);
  }
}

/**
 * A header fetch would refuse (a name with a space, a value with a line break or a character past
 * Latin-1) is refused at apply: at delivery it failed every batch, the sink DEGRADED for good. The
 * value is a credential, so the error never shows it.
 */
function headerCheck(what: string, name: string, value: string): void {
  try {
    new Headers([[name, value]]);
  } catch {
    throw new SettingsError(
      /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)
        ? `${what} cannot be sent in an HTTP header: it holds a line break, a control character or one outside Latin-1`
        : `${what}: '${name}' is not a valid HTTP header name`,
    );
  }
}

/** How long one object upload may take. */
const OBJECT_TIMEOUT_MS = 10_000;

/** An object-store sink: records gather for 5 s, so each hour is a few large objects, not many small ones. */
function objectStore(p: ProviderIR, ship: NonNullable<SinkFormat['ship']>): SinkFormat {
  return { name: p.name, type: p.type, gatherMs: 5_000, ship };
}

/** An object-store prefix as a folder: `decisions` → `decisions/`; none stays none. */
function folder(prefix: string | undefined): string {
  return prefix && !prefix.endsWith('/') ? `${prefix}/` : (prefix ?? '');
}
