import type { DenialCode, Resolution } from './denial-codes.js';
import type { Effect } from './effects.js';

/** A tool call to decide, as the SDK shim, a proxy or `faramesh test` presents it. */
export interface DecisionRequest {
  agent_id: string;
  /** Tool id, e.g. `stripe/refund`. */
  tool: string;
  args?: Record<string, unknown>;
  /** Verified claims of the human or service the agent acts for (`principal.*`). */
  principal?: Record<string, unknown>;
  /** The model the agent is running on, for `model_policy`. */
  model?: string;
  session_id?: string;
  /** The caller's free-form tags (`tags` in conditions): set by the agent's code through the SDK, never read from the arguments. */
  tags?: string[];
  /** Free-form action type (`action` in conditions). */
  action?: string;
  /** Agents the call was delegated through, outermost first. */
  delegation_chain?: DelegationHop[];
  /** Present when the call came through the HTTP proxy tier. */
  http?: HttpFields;
  /** Dollar cost of the call when the caller knows it. */
  cost_usd?: number;
  /** Model usage, priced by the bundled table when no cost is given. */
  usage?: { model?: string; input_tokens?: number; output_tokens?: number };
}

export interface DelegationHop {
  agent_id: string;
  /** When this hop's delegation was granted (RFC 3339). */
  issued_at?: string;
}

export interface HttpFields {
  host?: string;
  method?: string;
  path?: string;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  /** The addresses the proxy resolved the host to (once), and will connect to: the SSRF guard checks them. */
  addresses?: string[];
  /** Those of `addresses` that are this machine's own (an interface's): reaching one reaches the host itself. */
  own_addresses?: string[];
}

/** A soft signal that does not change the effect, e.g. BUDGET_WARNING. */
export interface DecisionSignal {
  code: 'BUDGET_WARNING' | 'BUDGET_EXCEEDED';
  budget_id: string;
  human_message: string;
}

export interface Decision {
  effect: Effect;
  /** Set on DENY and DEFER: POLICY_DENY, POLICY_DEFER, RATE_EXCEEDED, … */
  code?: DenialCode;
  /** `governance.fms:LINE` of the rule that fired (absent when the default applied). */
  rule_ref?: string;
  human_message?: string;
  resolution?: Resolution;
  budget_id?: string;
  provider?: string;
  signals: DecisionSignal[];
  /** Alerts this decision fires (`alert { on, notify }`); the daemon delivers them. */
  alerts: { on: string; notify: string }[];
  /** The arguments with every redacted path masked: what may be recorded or shown. */
  redacted_args: Record<string, unknown>;
  /** `on_exceed audit`: permitted, but a budget was exceeded and the record must say so. */
  audit_flags?: string[];
}
