/**
 * faramesh explain [decision] <action-id>: a recorded decision, from the audit log — what was decided, by which
 * rule of which policy, what it cost and how long each stage took, whether its chain holds and which
 * signed checkpoint covers it. Argument values are not in the log (only their hash); the daemon's
 * sinks hold the redacted values.
 */
import { makeOut, printable } from '../../output.js';
import { inline } from '../../output.js';
import { checkFields, type DecisionRecord } from '@faramesh/audit';
import { chainLine, loadEvidence, signedLine } from '../audit/show.js';
import type { AuditPathOptions } from '../audit/paths.js';
import { stackPaths } from '@faramesh/daemon';
import { ruleText } from '../../rule-text.js';
import { decidingPolicy } from '../daemon/policy-in-force.js';
import { placedRules } from './rules.js';

export interface ExplainRecordOptions extends AuditPathOptions {
  format?: 'text' | 'json';
  noColor?: boolean;
}

export function explainRecord(ref: string, o: ExplainRecordOptions): number {
  const out = makeOut(o.noColor);
  const ev = loadEvidence(ref, o, out);
  if (!ev) return 1;
  const stored = ev.record.record;
  if (o.format === 'json') {
    // The rule's text, as the text form shows it: read from the signed policy that made the decision.
    const decided = stored.type === 'decision' && typeof stored.rule_ref === 'string' ? (stored as unknown as DecisionRecord) : undefined;
    const rule_text = decided ? (ruleAt(o.stack, decided) ?? null) : null;
    out.print(JSON.stringify({ record: stored, rule_text, leaf_hash: ev.leaf_hash, chain: ev.chain, signed: ev.signed ?? null }, null, 2));
    return ev.chain.ok ? 0 : 1;
  }
  if (stored.type !== 'decision') {
    out.error(out.fail(`${ref} is a ${String(stored.type)} record, not a decision (faramesh audit show prints it)`));
    return 1;
  }
  // Read back from disk: render it only once it has the shape of a decision.
  const malformed = checkFields(stored)[0];
  if (malformed) {
    out.error(out.fail(`${ref} is malformed: '${malformed.field}' ${malformed.reason} (faramesh audit verify)`));
    return 1;
  }
  const r = stored as unknown as DecisionRecord;
  const rows: [string, string | undefined][] = [
    ['Decision', `action-${r.id}`],
    ['Time', r.time],
    ['Agent', r.agent_svid ? `${r.agent_id}   (${r.agent_svid})` : r.agent_id],
    ['Tool', `${r.tool}   (${r.action_type})`],
    ['Effect', [r.effect, r.code, r.denial?.human_message].filter(Boolean).join('  ')],
    // The agent was told PERMIT whatever the effect: say so, or a recorded deny reads as a block.
    [
      'Enforced',
      r.mode === 'audit' && r.effect !== 'permit'
        ? 'no: runtime { mode = "audit" }, the agent was told PERMIT and the call ran'
        : undefined,
    ],
    [
      'Rule',
      r.rule_ref ? `${r.rule_ref}${r.rule_digest ? `   (digest ${String(r.rule_digest).slice(0, 12)})` : ''}` : decidedWithoutRule(r),
    ],
    ['Rule text', r.rule_ref ? ruleAt(o.stack, r) : undefined],
    ['Policy', r.policy_version],
    ['Args', `sha256 ${r.args_hash}   (values are never stored in the log)`],
    [
      'Credential',
      r.credential_ref
        ? `${r.credential_ref.provider} scope ${r.credential_ref.scope.join(',')} (issued ${r.credential_ref.issued_at}, ttl ${r.credential_ref.ttl_s}s)`
        : undefined,
    ],
    ['Cost', r.cost ? costLine(r.cost) : undefined],
    [
      'Latency',
      r.latency_ms
        ? Object.entries(r.latency_ms)
            .map(([k, v]) => `${k} ${v}ms`)
            .join(' · ')
        : undefined,
    ],
    [
      'Approval',
      r.approval ? `by ${r.approval.approved_by} at ${r.approval.at}${r.approval.reason ? ` — ${r.approval.reason}` : ''}` : undefined,
    ],
    ['Delegation', r.delegation_chain?.length ? r.delegation_chain.join(' → ') : undefined],
    ['Run', r.request_id ? `${r.request_id}   (faramesh explain run ${r.request_id})` : undefined],
    ['Session', r.session_id],
    ['Dev', r.dev ? 'yes: stub providers signed or served this run' : undefined],
    ['Chain', chainLine(ev)],
    ['Signed', signedLine(ev)],
  ];
  // The agent chose the tool name and the ids: no escape sequence of theirs reaches the terminal.
  for (const [k, v] of rows)
    if (v !== undefined) out.print(`${k.padEnd(11)}${['Rule text', 'Chain', 'Signed'].includes(k) ? printable(v) : inline(v)}`);
  return ev.chain.ok ? 0 : 1;
}

/**
 * What decided a call no rule is named for: the agent's default, or a check that refused it on its
 * own (the identity check, egress, model policy, a quiesced agent…), which its denial names.
 */
export function decidedWithoutRule(r: Pick<DecisionRecord, 'denial'>): string {
  const resolution = r.denial?.resolution as { type?: string; rule_id?: unknown } | undefined;
  if (resolution?.type === 'manual_audit') return '(no rule: refused before the policy was consulted)';
  const check = resolution?.type === 'rule_block' && typeof resolution.rule_id === 'string' ? resolution.rule_id : undefined;
  return check === undefined || check === 'default' ? '(default effect)' : `(no rule: the ${check.replace(/_/g, ' ')} check)`;
}

function costLine(c: { usd?: number; input_tokens?: number; output_tokens?: number }): string {
  const parts = [
    c.usd !== undefined ? `$${c.usd}` : undefined,
    c.input_tokens !== undefined ? `${c.input_tokens} in` : undefined,
    c.output_tokens !== undefined ? `${c.output_tokens} out tokens` : undefined,
  ];
  return parts.filter(Boolean).join(' · ');
}

/** The rule as the signed policy that made the decision has it (when apply kept that version here). */
function ruleAt(stack: string, r: DecisionRecord): string | undefined {
  try {
    const ir = decidingPolicy(stackPaths(stack), r.policy_version).ir;
    const found = placedRules(ir).find((p) => p.rule.ref === r.rule_ref && (p.agent === r.agent_id || p.agent === ''));
    return found ? ruleText(found.rule) : undefined;
  } catch {
    return undefined;
  }
}
