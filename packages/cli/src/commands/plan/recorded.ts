/**
 * What a recorded decision tells about the policy that made it, shared by `plan`'s replay and
 * `test record`: the signed policy versions apply kept, and whether the rules decided the call (and
 * with which effect) or something else did (a limit, an operator, an identity check).
 */
import type { StackPaths } from '@faramesh/daemon';
import { prepare, type PreparedPolicy } from '@faramesh/engine';
import type { Verifier } from '@faramesh/audit';
import { placedRules } from '../explain/rules.js';
import { appliedVersion, stackVerifiers } from '../daemon/policy-in-force.js';

export type PlanEffect = 'permit' | 'defer' | 'deny';

/** Codes of decisions made after the rule stage, by state the log does not replay. */
export const LATER_STAGES = new Set(['RATE_EXCEEDED', 'BUDGET_EXCEEDED', 'EGRESS_DENIED', 'MODEL_DENIED', 'CREDENTIAL_UNAVAILABLE']);
/** Refusals that say nothing about the policy: the daemon could not decide at all. */
export const NOT_DECISIONS = new Set(['DAEMON_NOT_READY', 'AUDIT_UNAVAILABLE', 'RUNTIME_GAP']);

/** The fields of a decision record these judgements read. */
export interface Recorded {
  agent_id: string;
  tool: string;
  effect: PlanEffect;
  time: string;
  code?: string;
  rule_ref?: string;
  policy_version: string;
  action_type?: string;
  approval?: unknown;
  delegation_chain?: string[];
  denial?: { resolution?: { type?: string; rule_id?: string } };
}

/** The prepared policy of an applied version, and the effect of each of its rules by ref. */
export interface Applied {
  policy: PreparedPolicy;
  effects: Map<string, string>;
}

/** The policies records were decided under, from the signed copies apply keeps, each loaded once. */
export class AppliedPolicies {
  private readonly verifiers: Verifier[];
  private readonly loaded = new Map<string, Applied | null>();

  constructor(private readonly paths: StackPaths) {
    this.verifiers = stackVerifiers(paths);
  }

  /** Null when no copy of that version verifies under the stack's key. */
  get(version: string): Applied | null {
    let p = this.loaded.get(version);
    if (p === undefined) {
      try {
        const ir = appliedVersion(this.paths, version, this.verifiers).ir;
        p = { policy: prepare(ir), effects: new Map(placedRules(ir).map((x) => [x.rule.ref, x.rule.effect])) };
      } catch {
        p = null;
      }
      this.loaded.set(version, p);
    }
    return p;
  }
}

/**
 * What decided a recorded call: its rules (and the effect they gave), or the name of what else did.
 * An approved call was deferred by its rule; a deferred call an operator denied carries its rule's
 * ref with a deny, which the policy that decided it tells apart from a rule that denies.
 */
export function decidedBy(r: Recorded, before: Applied | null): { effect: PlanEffect } | string {
  if (r.code !== undefined && (LATER_STAGES.has(r.code) || r.code === 'IDENTITY_UNVERIFIED')) return r.code;
  if (r.approval !== undefined) return { effect: 'defer' };
  if (r.effect !== 'deny') return { effect: r.effect };
  const resolution = r.denial?.resolution;
  if (resolution?.type === 'manual_audit') return 'a refusal before the policy (a quiesced agent)';
  const ruleId = resolution?.type === 'rule_block' ? resolution.rule_id : undefined;
  if (ruleId !== undefined && ruleId !== r.rule_ref && ruleId !== 'default') return `the ${ruleId} check`;
  if (r.rule_ref !== undefined && before?.effects.get(r.rule_ref) === 'defer') return { effect: 'defer' };
  return { effect: 'deny' };
}
