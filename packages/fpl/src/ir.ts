/**
 * The compiled policy: what `faramesh apply` writes and the engine evaluates. It keeps every
 * construct and every agent of the source. Positions live only in `ref`/`line` fields (and
 * `source`), so two policies that differ only in layout compare equal after `stripPositions`.
 */
import type { PolicyEffect } from '@faramesh/protocol';

export const IR_FORMAT = 'faramesh.policy/v1';

/** A configuration value. `{ $env: NAME }` is resolved by the daemon at start, so secrets never land in compiled files. */
export type IRValue = string | number | boolean | null | IRValue[] | { $env: string } | { [key: string]: IRValue };

export type ExprIR =
  | { lit: string | number | boolean | null | (string | number | boolean | null)[] }
  | { list: ExprIR[] }
  /** A request variable. Names that are not request variables are compiled under `args`. */
  | { var: string[] }
  /** A selector's value, fetched by the daemon (`selector "user_role" { … }`). */
  | { selector: string; path: string[] }
  | { op: 'and' | 'or'; args: [ExprIR, ExprIR] }
  | { op: 'not'; args: [ExprIR] }
  | { op: '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'contains' | 'startsWith' | 'endsWith'; args: [ExprIR, ExprIR] }
  /** `matches`: an unanchored RE2 search; the pattern was validated at compile time. */
  | { op: 'matches'; args: [ExprIR, ExprIR] };

export interface RuleIR {
  effect: PolicyEffect;
  /** `deny!`: no later rule may permit what it denies (checked at compile time). */
  strict?: true;
  tool: string;
  when?: ExprIR;
  host?: string;
  method?: string;
  path?: string;
  reason?: string;
  notify?: string;
  /** `governance.fms:LINE`: the `rule_ref` of decisions this rule makes. */
  ref: string;
  /** The import this rule came from, when it was not written locally. */
  origin?: string;
}

export interface RateLimitIR {
  pattern: string;
  limit: number;
  window: 'second' | 'minute' | 'hour' | 'day';
  window_s: number;
  ref: string;
}

/** A declared per-call cost for tools matching `pattern`, charged when a call reports none. */
export interface CostIR {
  pattern: string;
  usd: number;
  ref: string;
}

export interface RedactionIR {
  tool: string;
  paths: string[];
  ref: string;
}

export interface BudgetIR {
  id: string;
  /** Dollar ceiling for the budget's window. */
  max?: number;
  /** An explicit daily dollar cap, beside `max`. */
  daily?: number;
  max_calls?: number;
  warn_at?: number;
  on_exceed: 'deny' | 'defer' | 'audit';
  /** `session` budgets count per session id; every other budget per UTC day. */
  window: 'session' | 'day';
  /** `fleet` budgets are shared by every agent that declares the same id. */
  scope?: 'agent' | 'fleet';
  ref: string;
}

export interface AlertIR {
  on: string;
  notify: string;
  ref: string;
}

export interface PhaseIR {
  name: string;
  duration_s?: number;
  next?: string;
  tools: string[];
  rules: RuleIR[];
  ref: string;
}

export interface DelegateIR {
  targets: string[];
  /** Tool patterns the delegated agent may call under this grant (none: any its own rules allow). */
  scope?: string[];
  ttl_s?: number;
  ceiling?: string;
  inherits: string[];
  ref: string;
}

export interface SelectorIR {
  id: string;
  source: string;
  cache_s?: number;
  on_unavailable: 'deny' | 'defer';
  on_timeout: 'deny' | 'defer';
  ref: string;
}

export interface CredentialIR {
  id: string;
  provider?: IRValue;
  path?: string;
  scope: string[];
  ttl_s?: number;
  max_scope?: string;
  tools: string[];
  /** The request header the HTTP proxy injects the secret into (default `Authorization: Bearer …`). */
  header?: string;
  /** The proxies may send it over plain HTTP to another machine (`cleartext = true`). */
  cleartext?: boolean;
  ref: string;
}

export interface UseIR {
  alias: string;
  params: Record<string, IRValue>;
  ref: string;
}

export interface AgentIR {
  id: string;
  /** The effect when no rule matches; absent means deny. */
  default?: PolicyEffect;
  model?: string;
  framework?: string;
  version?: string;
  rules: RuleIR[];
  rate_limits: RateLimitIR[];
  redactions: RedactionIR[];
  costs: CostIR[];
  budgets: BudgetIR[];
  egress?: { allow: string[]; deny: string[]; ref: string };
  model_policy?: { allow: string[]; deny: string[]; ref: string };
  session?: { max_duration_s?: number; idle_timeout_s?: number; ref: string };
  spawn?: { max_concurrent?: number; allowed_types: string[]; allow: string[]; ref: string };
  completion_gate?: { require: string[]; ref: string };
  enforcement?: { [key: string]: IRValue };
  alerts: AlertIR[];
  delegates: DelegateIR[];
  phases: PhaseIR[];
  vars: { [name: string]: IRValue };
  selectors: SelectorIR[];
  ambient?: { [key: string]: IRValue };
  credentials: CredentialIR[];
  uses: UseIR[];
  ref: string;
}

export interface ProviderIR {
  name: string;
  type: string;
  fields: { [key: string]: IRValue };
  ref: string;
}

/**
 * An upstream MCP server the daemon's MCP proxy fronts (`mcp_server "<name>" { … }`). The proxy
 * serves it at `/mcp/<name>` on `runtime { mcp_proxy_port }`; its tools are governed as
 * `<name>/<tool>`. Exactly one of `command` (stdio) and `url` (remote) is set.
 */
export interface McpServerIR {
  name: string;
  /** stdio: the program the daemon spawns, with its arguments, extra environment and working directory. */
  command?: string;
  args: string[];
  env: { [key: string]: IRValue }; // values are strings or { $env: NAME }
  cwd?: string;
  /** Remote: a Streamable HTTP (default) or legacy SSE endpoint, with extra request headers. */
  url?: string;
  headers: { [key: string]: IRValue }; // values are strings or { $env: NAME }
  transport?: 'streamable-http' | 'sse';
  ref: string; // 'governance.fms:LINE' like other IR refs
}

/** A parameter of a reverse-proxy route, with the type its value takes as an argument. */
export interface HttpParamIR {
  name: string;
  /** `body`: a top-level field of a JSON or form body, as the operation's body schema declares it. */
  in: 'path' | 'query' | 'header' | 'body';
  type: 'string' | 'number' | 'integer' | 'boolean' | 'array';
  /** For arrays: the type of each item. */
  items?: 'string' | 'number' | 'integer' | 'boolean';
}

/**
 * A reverse-proxy route: a request with this method and path is a call of `tool`. Built by apply from
 * `runtime { http_routes }` and the `http_openapi` document, and signed with the rest of the policy.
 */
export interface HttpRouteIR {
  /** Upper case, or `*` for any. */
  method: string;
  /** `/orders/{id}/refund`: each segment literal or one `{param}`. */
  path: string;
  tool: string;
  /** Declared parameters (OpenAPI); a route map declares none and its values stay strings. */
  params: HttpParamIR[];
  /**
   * The media types of the body an operation declares (`application/json`, `image/*`), lower case:
   * only these are accepted, and an empty list takes no body. JSON and form bodies give their fields
   * as arguments; other types pass unread. Absent (a route map): a JSON or form body still gives
   * its fields, and other typed bodies pass unread.
   */
  body?: string[];
  /** Where it was declared: `governance.fms` or the OpenAPI file, with the operation. */
  ref: string;
}

export interface ImportIR {
  path: string;
  alias?: string;
  kind: string;
  version: string;
  sha256?: string;
  key_id?: string;
  ref: string;
}

export interface TrustKeyIR {
  registry: string;
  algorithm: 'ed25519';
  public_key_b64: string;
  ref: string;
}

export interface PolicyIR {
  format: typeof IR_FORMAT;
  imports: ImportIR[];
  runtime: { [key: string]: IRValue };
  providers: ProviderIR[];
  identities: ProviderIR[];
  /** Upstream MCP servers the MCP proxy fronts, in source order (local first, then imported). */
  mcp_servers: McpServerIR[];
  /** Reverse-proxy routes, added by apply (absent from `faramesh compile` output). */
  http_routes?: HttpRouteIR[];
  trust: { keys: TrustKeyIR[]; entries: { keyword: string; subject?: string; value: string; ref: string }[] };
  /** Top-level flat rules: the policy of agents without a block of their own. */
  rules: RuleIR[];
  agents: AgentIR[];
  packs: { name: string; version?: string; ref: string }[];
}

/** A policy with nothing declared: what lowering starts from, and what `plan` compares a first apply with. */
export function emptyPolicy(): PolicyIR {
  return {
    format: IR_FORMAT,
    imports: [],
    runtime: {},
    providers: [],
    identities: [],
    mcp_servers: [],
    trust: { keys: [], entries: [] },
    rules: [],
    agents: [],
    packs: [],
  };
}

/** An agent with nothing declared yet: the lowering fills it in; the engine uses it for the top-level rules. */
export function emptyAgent(id: string, ref: string): AgentIR {
  return {
    id,
    rules: [],
    rate_limits: [],
    redactions: [],
    costs: [],
    budgets: [],
    alerts: [],
    delegates: [],
    phases: [],
    vars: {},
    selectors: [],
    credentials: [],
    uses: [],
    ref,
  };
}

/** Remove every position (`ref`, `origin` stays): for comparing policies that differ only in layout. */
export function stripPositions<T>(ir: T): T {
  return JSON.parse(JSON.stringify(ir, (key, value: unknown) => (key === 'ref' ? undefined : value))) as T;
}
