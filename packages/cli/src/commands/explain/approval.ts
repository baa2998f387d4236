/**
 * faramesh explain approval <id>: why a call is waiting for an operator. The approval comes from the
 * daemon; the rules are walked again on its recorded (redacted) arguments, under the signed policy
 * that deferred it, at the time it was deferred. Then what approving and denying would do.
 */
import { findLoggedRecord } from '@faramesh/audit';
import { operatorCall, stackPaths, type Approval } from '@faramesh/daemon/client';
import { decide, emptyState, prepare, REDACTED, Trace } from '@faramesh/engine';
import { inline, makeOut } from '../../output.js';
import { actionRef, statusLabel } from '../daemon/approvals.js';
import { ruleText } from '../../rule-text.js';
import { walDir } from '../audit/paths.js';
import { guarded } from '../daemon/operator.js';
import { decidingPolicy } from '../daemon/policy-in-force.js';
import { duration } from '../daemon/status.js';
import { placedRules } from './rules.js';
import type { ExprIR } from '@faramesh/fpl';

/** Variables an approval does not keep: a condition reading one cannot be walked again. */
const UNKEPT = new Set(['tags', 'model', 'principal', 'session', 'cost', 'delegation', 'action', 'query', 'headers']);

function unkeptFields(expr: ExprIR): string[] {
  const found = new Set<string>();
  const visit = (e: ExprIR): void => {
    if ('lit' in e || 'selector' in e) return;
    if ('list' in e) return e.list.forEach(visit);
    if ('var' in e) {
      if (UNKEPT.has(e.var[0]!)) found.add(e.var[0]!);
      return;
    }
    e.args.forEach(visit);
  };
  visit(expr);
  return [...found].sort();
}

export interface ExplainApprovalOptions {
  dir: string;
  format?: 'text' | 'json';
  noColor?: boolean;
}

type Shown = Omit<Approval, 'binding'>;

export function explainApproval(id: string, o: ExplainApprovalOptions): Promise<number> {
  const paths = stackPaths(o.dir);
  return guarded(makeOut(o.noColor), async (out) => {
    const a = await operatorCall<Shown>(paths.operatorSocket, 'approvals.show', { id });
    const walk = rulesAtDeferral(o.dir, a);
    if (o.format === 'json') {
      out.print(JSON.stringify({ approval: a, policy_version: walk?.policy_version ?? null, rules: walk?.rules ?? null }, null, 2));
      return 0;
    }
    const title = `Approval ${a.id}`;
    const waited = Math.max(0, Math.round((Date.now() - Date.parse(a.deferred_at)) / 1000));
    const lines = [title, '─'.repeat(title.length)];
    // Values an agent chose (its id, the tool, the arguments) are shown on one line, escaped.
    const row = (k: string, v: string) => lines.push(`${k.padEnd(12)}${inline(v)}`);
    row('status', `${statusLabel(a)}${a.status === 'pending' ? ` (${duration(waited)}, expires ${a.expires_at})` : ''}`);
    row('agent', a.agent_id);
    row('tool', a.tool);
    row('defer rule', a.rule_ref ? `${a.rule_ref}${walk?.deferredBy ? `   (${walk.deferredBy})` : ''}` : '(default effect, or a budget)');
    if (a.reason) row('reason', a.reason);
    row('args', a.args_dropped ? '(dropped from the book an hour after it was done)' : `${JSON.stringify(a.args)}   (after redaction)`);
    if (walk) {
      lines.push('', `Rules at defer time (policy ${walk.policy_version.slice(0, 16)}, ${a.deferred_at}):`);
      for (const r of walk.rules) lines.push(`  ${r.ref.padEnd(20)} ${r.text}  → ${r.result}`);
      if (walk.redacted) lines.push('  (walked on the redacted arguments: a condition on a redacted field may read otherwise)');
    }
    if (a.status === 'pending') {
      lines.push(
        '',
        'What happens on approve:',
        `  ${inline(a.agent_id)}'s identical ${inline(a.tool)} call (same arguments) is permitted once; its record names you`,
        'What happens on deny:',
        `  that call gets POLICY_DENY with your reason`,
        '',
        'Suggested commands:',
        `  faramesh approvals approve ${a.id} --reason "..."`,
        `  faramesh approvals deny    ${a.id} --reason "..."`,
      );
    } else if (a.resolved_at)
      row(
        'resolved',
        `${a.lapsed ?? a.status} by ${a.resolved_by ?? '—'} at ${a.resolved_at}${a.resolution_reason ? ` ("${a.resolution_reason}")` : ''}`,
      );
    out.print(lines.join('\n'));
    return 0;
  });
}

interface RuleWalk {
  policy_version: string;
  deferredBy?: string;
  rules: { ref: string; text: string; result: string }[];
  redacted: boolean;
}

/** The deferring decision's rule walk, from its record's policy version; undefined when that is not here. */
function rulesAtDeferral(stack: string, a: Shown): RuleWalk | undefined {
  // Walked on no arguments, the rules would not say what they said of the call's.
  if (a.args_dropped) return undefined;
  try {
    const record = findLoggedRecord(walDir({ stack }), actionRef(a.action_id))?.record;
    if (!record || typeof record.policy_version !== 'string') return undefined;
    const ir = decidingPolicy(stackPaths(stack), record.policy_version).ir;
    const nowMs = Date.parse(a.deferred_at);
    const trace = new Trace();
    decide(
      prepare(ir),
      { agent_id: a.agent_id, tool: a.tool, args: a.args },
      { ...emptyState(), policy_applied_ms: nowMs },
      { nowMs },
      { trace },
    );
    const placed = placedRules(ir).filter((p) => p.agent === a.agent_id || p.agent === '');
    const text = new Map(placed.map((p) => [p.rule.ref, ruleText(p.rule)]));
    const unkept = new Map(placed.map((p) => [p.rule.ref, p.rule.when ? unkeptFields(p.rule.when) : []]));
    // The approval keeps the tool and the redacted arguments, not the call's tags, model, principal or
    // session: a condition on them is unknown here, though it was true or false when the call came.
    const rules: RuleWalk['rules'] = [];
    for (const r of trace.rules) {
      const fields = unkept.get(r.ref) ?? [];
      if (r.ref === a.rule_ref) {
        rules.push({
          ref: r.ref,
          text: text.get(r.ref) ?? '',
          result: `match → DEFER${r.result.startsWith('match') ? '' : ' (as recorded)'}`,
        });
        break;
      }
      const unknown = fields.length > 0 && !r.result.startsWith('no match (condition false)');
      rules.push({
        ref: r.ref,
        text: text.get(r.ref) ?? '',
        result: unknown ? `not known: reads ${fields.join(', ')}, which the approval does not keep` : r.result,
      });
    }
    const reached = a.rule_ref === undefined || rules.some((r) => r.ref === a.rule_ref);
    return {
      policy_version: record.policy_version,
      ...(a.rule_ref && text.has(a.rule_ref) ? { deferredBy: text.get(a.rule_ref)! } : {}),
      rules: reached
        ? rules
        : [
            ...rules,
            {
              ref: a.rule_ref!,
              text: text.get(a.rule_ref!) ?? '',
              result: 'match → DEFER (as recorded; the walk above lacks what decided it)',
            },
          ],
      redacted: JSON.stringify(a.args).includes(JSON.stringify(REDACTED)),
    };
  } catch {
    return undefined;
  }
}
