/**
 * What each block accepts. The parser is generic (blocks, attributes, statements); this table is
 * where the language's vocabulary lives, so adding a block is one entry here
 * plus its lowering. It also feeds "did you mean" suggestions.
 */
export type ValueKind =
  | 'string'
  | 'number'
  | 'integer'
  | 'port'
  | 'money'
  | 'fraction'
  | 'bool'
  | 'duration'
  | 'effect'
  | 'enum'
  | 'string-list'
  | 'string-or-list'
  /** `{ KEY = "value", OTHER = env("X") }`: string values (or env references) under checked keys. */
  | 'string-map'
  | 'url'
  | 'any';

export interface FieldSpec {
  kind: ValueKind;
  values?: readonly string[];
  /** The field may appear more than once (`require "…"`). */
  repeated?: boolean;
  /** Conventional spelling for the printer: `name = value` (true) or `name value` (false). */
  equals?: boolean;
  /** For `string-map`: what the keys name (environment variables, HTTP header fields, or `METHOD /path` routes). */
  keys?: 'env-name' | 'header-name' | 'route';
  /** The value must be written in the policy: `env()` is refused even where a string is expected. */
  literal?: boolean;
}

export interface BlockSpec {
  /** `none`: `egress { }`; `one`: `agent "id" { }`; `optional`: `delegate [target] { }`. */
  labels: 'none' | 'one' | 'optional';
  fields: Readonly<Record<string, FieldSpec>>;
  /** Nested blocks, by keyword. */
  blocks?: readonly string[];
  /** Statements allowed in the body (`rule`, `rate_limit`, `redact`, `var`, `use`, `trust-entry`). */
  statements?: readonly string[];
  /** The block may appear more than once in its parent (with distinct labels when it has one). */
  repeatable?: boolean;
  /** Fields outside `fields` are accepted (provider schemas depend on `type`). */
  openFields?: boolean;
  /** Any field may be `env("X")`, resolved when the daemon starts (runtime, providers, identities). */
  envAnywhere?: boolean;
  /** Other names people give a field (`environment` for `env`), suggested before spelling matches. */
  synonyms?: Readonly<Record<string, string>>;
  /** Fields people put here that belong elsewhere (or do not exist): the hint says what to write instead. */
  misplaced?: Readonly<Record<string, string>>;
}

const s = (extra: Partial<FieldSpec> = {}): FieldSpec => ({ kind: 'string', equals: true, ...extra });
const dur: FieldSpec = { kind: 'duration', equals: true };
const bool: FieldSpec = { kind: 'bool', equals: true };
const port: FieldSpec = { kind: 'port', equals: true };
const list: FieldSpec = { kind: 'string-list', equals: true };
const enumOf = (values: readonly string[], equals = true): FieldSpec => ({ kind: 'enum', values, equals });

export const EFFECTS = ['permit', 'defer', 'deny'] as const;
export const WINDOWS = { second: 1, minute: 60, hour: 3600, day: 86400 } as const;
/** What an alert fires on: a decision's effect or budget/rate signal, or an operator approving a deferred call. */
export const ALERT_ON = ['deny', 'defer', 'permit', 'budget_warning', 'budget_exceeded', 'rate_exceeded', 'approved'] as const;
export const NOTIFY_SCHEMES = ['slack', 'email', 'pagerduty', 'webhook'] as const;
export const ON_EXCEED = ['deny', 'defer', 'audit'] as const;
export const COMPLETION_GATES = ['no_pending_approvals', 'budget_under_limit', 'no_uncommitted_writes'] as const;

export const MCP_TRANSPORTS = ['streamable-http', 'sse'] as const;

export const RUNTIME_FIELDS: Readonly<Record<string, FieldSpec>> = {
  mode: enumOf(['enforce', 'audit']),
  wal_dir: s(),
  wal_retention: dur,
  backend: enumOf(['sqlite', 'postgres']),
  postgres_url: s(),
  budget_backend: s(),
  socket: s(),
  http_listen: s(),
  http_upstream: { kind: 'url', equals: true },
  /** The reverse proxy: the upstream's OpenAPI 3 document (a file beside governance.fms), read at apply. */
  http_openapi: s({ literal: true }),
  /** The reverse proxy: `{ "POST /orders/{id}/refund" = "refund_order" }`, routes without an OpenAPI document. */
  http_routes: { kind: 'string-map', keys: 'route', equals: true },
  /** The reverse proxy: the agent whose calls requests without an agent token are. */
  http_agent: s({ literal: true }),
  http_proxy_port: port,
  /** The forward proxy ends agents' TLS with the stack CA and decides each request inside (opt-in). */
  https_inspection: bool,
  /** Only these CONNECT hosts (`api.example.com`, `*.example.com`) are inspected; others are tunnelled. */
  https_inspection_hosts: list,
  mcp_proxy_port: port,
  mcp_filter_tools: bool,
  /** MCP proxy: answer a denied or deferred tools/call with a JSON-RPC error instead of an isError result. */
  mcp_deny_as_error: bool,
  tls_cert_file: s(),
  tls_key_file: s(),
  cold_start_deny_window: dur,
  cold_start_grace: dur,
  approval_ttl: dur,
  os_tier: bool,
  strip_ambient_credentials: bool,
  strip_env: list,
  immutable_config: bool,
  agent_enforce_profile: enumOf(['full', 'minimal', 'off']),
  supervised_command: s(),
  /** Restart a supervised agent when it exits: on-failure (default), always, never. */
  supervisor_restart: enumOf(['on-failure', 'always', 'never']),
  /** OS tier: more variables the agent may inherit (names, or prefixes ending in *), besides the base allowlist. */
  agent_env: list,
  /** OS tier: more paths the agent may read, or write, besides the system and its workspace. */
  agent_read_paths: list,
  agent_write_paths: list,
  /** Enforce mode without a KMS: apply says checkpoints are signed by a host key, unless this is set. */
  signing_warning_acknowledged: bool,
  /** Take an agent's structured `principal` claims as `principal.*` without a verified token (off by default). */
  trust_sdk_principal: bool,
};

/** Provider fields by `type`; every provider also accepts `type` and the broker limits below. */
export const PROVIDER_TYPES: Readonly<Record<string, readonly string[]>> = {
  vault: ['addr', 'token', 'role', 'secret_id', 'mount', 'namespace'],
  'aws-sm': ['region', 'role_arn'],
  'aws-secrets-manager': ['region', 'role_arn'],
  'gcp-sm': ['project', 'endpoint'],
  'azure-kv': ['vault_url', 'tenant_id', 'client_id', 'client_secret', 'authority_host'],
  spiffe: ['socket', 'trust_domain'],
  kms: [
    'backend',
    'region',
    'key_arn',
    'role_arn',
    'signing_algorithm',
    'project',
    'key',
    'endpoint',
    'vault_url',
    'key_name',
    'key_version',
    'tenant_id',
    'client_id',
    'client_secret',
    'authority_host',
    'addr',
    'token',
    'mount',
    'namespace',
  ],
  'aws-kms': ['region', 'key_arn', 'role_arn', 'signing_algorithm'],
  'gcp-kms': ['project', 'key', 'endpoint'],
  'azure-key-vault': ['vault_url', 'key_name', 'key_version', 'tenant_id', 'client_id', 'client_secret', 'authority_host'],
  'vault-transit': ['addr', 'token', 'mount', 'key', 'namespace'],
  pkcs11: ['module_path', 'slot', 'key_label', 'pin'],
  stdout: [],
  'webhook-sink': ['url', 'headers', 'token'],
  'splunk-sink': ['url', 'token', 'index'],
  'datadog-sink': ['api_key', 'site', 'url'],
  'elastic-sink': ['url', 'api_key', 'index'],
  's3-sink': ['region', 'bucket', 'prefix', 'path_style'],
  'gcs-sink': ['project', 'bucket', 'prefix', 'endpoint'],
  'cost-static': [],
  'cost-http': ['url'],
};
export const PROVIDER_COMMON_FIELDS = ['type', 'scope_required', 'max_ttl', 'timeout'];
/** `provider { type = "kms" backend = … }`: the short names and the provider types' own. */
export const KMS_BACKENDS = ['aws', 'gcp', 'azure', 'vault', 'aws-kms', 'gcp-kms', 'azure-key-vault', 'azure-kv', 'vault-transit'];

export const IDENTITY_TYPES: Readonly<Record<string, readonly string[]>> = {
  spiffe: ['socket', 'trust_domain'],
  oidc: ['issuer', 'audience', 'jwks_url', 'jwks_file', 'client_id', 'claim_agent_id', 'claim_groups'],
};

export const BLOCKS: Readonly<Record<string, BlockSpec>> = {
  runtime: { labels: 'none', fields: RUNTIME_FIELDS, envAnywhere: true },
  provider: { labels: 'one', fields: { type: s() }, openFields: true, repeatable: true, envAnywhere: true },
  identity: { labels: 'one', fields: { type: s() }, openFields: true, repeatable: true, envAnywhere: true },
  trust: { labels: 'none', fields: {}, statements: ['trust-entry'], repeatable: true },
  /** An upstream MCP server for the MCP proxy: stdio (`command`) or remote (`url`). See lower/mcp.ts. */
  mcp_server: {
    labels: 'one',
    repeatable: true,
    fields: {
      command: s({ literal: true }),
      args: list,
      env: { kind: 'string-map', keys: 'env-name', equals: true },
      cwd: s({ literal: true }),
      url: { kind: 'url', literal: true, equals: true },
      headers: { kind: 'string-map', keys: 'header-name', equals: true },
      transport: enumOf(MCP_TRANSPORTS),
    },
    synonyms: {
      cmd: 'command',
      program: 'command',
      arguments: 'args',
      argv: 'args',
      environment: 'env',
      envs: 'env',
      dir: 'cwd',
      workdir: 'cwd',
      working_dir: 'cwd',
      working_directory: 'cwd',
      endpoint: 'url',
      uri: 'url',
      header: 'headers',
    },
  },
  pack: { labels: 'one', fields: { version: s() }, blocks: ['agent', 'rules'], statements: ['rule'] },
  agent: {
    labels: 'one',
    repeatable: true,
    fields: {
      default: { kind: 'effect', equals: false },
      model: s(),
      framework: s(),
      version: s(),
    },
    blocks: [
      'rules',
      'budget',
      'egress',
      'model_policy',
      'session',
      'spawn',
      'completion_gate',
      'enforcement',
      'alert',
      'delegate',
      'phase',
      'selector',
      'ambient',
      'credential',
    ],
    statements: ['rule', 'rate_limit', 'redact', 'cost', 'var', 'use'],
  },
  rules: { labels: 'none', fields: {}, statements: ['rule'], repeatable: true },
  budget: {
    labels: 'optional',
    repeatable: true,
    fields: {
      id: s(),
      max: { kind: 'money', equals: false },
      usd: { kind: 'money', equals: false },
      daily: { kind: 'money', equals: false },
      max_calls: { kind: 'integer', equals: false },
      warn_at: { kind: 'fraction', equals: false },
      on_exceed: enumOf(ON_EXCEED, false),
      scope: enumOf(['agent', 'fleet']),
    },
  },
  egress: { labels: 'none', fields: { allow: list, deny: list } },
  model_policy: {
    labels: 'none',
    fields: { allow: { kind: 'string-or-list', equals: true }, deny: { kind: 'string-or-list', equals: true } },
  },
  session: { labels: 'none', fields: { max_duration: dur, idle_timeout: dur } },
  spawn: { labels: 'none', fields: { max_concurrent: { kind: 'integer', equals: true }, allowed_types: list, allow: list } },
  completion_gate: { labels: 'none', fields: { require: { kind: 'enum', values: COMPLETION_GATES, repeated: true, equals: false } } },
  enforcement: {
    labels: 'none',
    fields: { mcp_proxy_port: port, http_proxy_port: port },
    // Some pages spell the OS tier `enforcement { os_tier = true }`; it is a stack-wide setting.
    misplaced: {
      os_tier: 'the OS tier is set for the whole stack: runtime { os_tier = true }',
      filesystem: 'the sandbox is set in runtime { }: os_tier = true, and agent_enforce_profile = "full" or "minimal"',
      isolation: 'microVM (Firecracker) isolation is not supported; the OS tier is runtime { os_tier = true }',
    },
  },
  alert: { labels: 'none', repeatable: true, fields: { on: enumOf(ALERT_ON), notify: s() } },
  delegate: {
    labels: 'optional',
    repeatable: true,
    fields: {
      target_agent: s(),
      to: list,
      scope: { kind: 'string-or-list', equals: true },
      ttl: dur,
      ceiling: enumOf(['permit', 'defer', 'deny', 'inherited', 'approval']),
      inherits: list,
    },
  },
  phase: { labels: 'one', repeatable: true, fields: { duration: dur, next: s(), tools: list }, blocks: ['rules'], statements: ['rule'] },
  selector: {
    labels: 'one',
    repeatable: true,
    fields: {
      source: { kind: 'url', equals: true },
      cache: dur,
      on_unavailable: enumOf(['deny', 'defer']),
      on_timeout: enumOf(['deny', 'defer']),
    },
  },
  ambient: {
    labels: 'none',
    fields: {
      max_customers_per_day: { kind: 'integer', equals: true },
      max_calls_per_day: { kind: 'integer', equals: true },
      max_data_volume: s(),
      on_exceed: enumOf(['deny', 'defer']),
    },
  },
  credential: {
    labels: 'optional',
    repeatable: true,
    fields: {
      provider: s(),
      backend: s(),
      path: s(),
      scope: { kind: 'string-or-list', equals: true },
      ttl: dur,
      max_scope: s(),
      tools: list,
      /** Where the HTTP proxy puts the secret: this request header (default Authorization, as a Bearer token). */
      header: s(),
      /** A proxy may send it over plain HTTP off this machine (a network you trust); off by default. */
      cleartext: bool,
    },
  },
};

/** Blocks allowed at the top of a file. */
export const TOP_LEVEL_BLOCKS = ['runtime', 'provider', 'identity', 'mcp_server', 'trust', 'agent', 'pack'] as const;

/** Words recognised as statements, for suggestions. */
export const STATEMENT_WORDS = ['rate_limit', 'redact', 'var', 'use', 'permit', 'defer', 'deny'];

/** Variables a condition can read from the request (beyond `args.*`). */
export const REQUEST_ROOTS = new Set([
  'tool',
  'agent',
  'action',
  'model',
  'host',
  'method',
  'path',
  'query',
  'headers',
  'principal',
  'time',
  'session',
  'args',
  'delegation',
  'cost',
  'tags',
]);
export const TIME_FIELDS = ['hour', 'minute', 'weekday', 'day', 'month', 'year', 'now'];
/** Roots that are scalars: `tool.x` is a mistake. */
export const SCALAR_ROOTS = new Set(['tool', 'agent', 'action', 'model', 'method', 'tags']);
