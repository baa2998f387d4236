import { DaemonUnreachableError, operatorCall, stackPaths } from '@faramesh/daemon/client';
import { decide, emptyState, prepare, Trace } from '@faramesh/engine';
import type { PolicyIR } from '@faramesh/fpl';
import { parseRfc3339, type Decision, type DecisionRequest } from '@faramesh/protocol';
import { makeOut } from '../../output.js';
import { renderDiagnostic } from '../../diagnostics.js';
import { ruleText } from '../../rule-text.js';
import { compileStack } from '../../stack-compile.js';
import { policyInForce } from '../daemon/policy-in-force.js';
import { placedRules } from './rules.js';

export interface ExplainOptions {
  dir: string;
  agent: string;
  tool: string;
  args?: string;
  principal?: string;
  model?: string;
  session?: string;
  /** Comma-separated. */
  tags?: string;
  now?: string;
  /** Walk governance.fms as written, not the policy in force. */
  unapplied?: boolean;
  format?: 'text' | 'json';
  noColor?: boolean;
}

/** Which policy, and which state, the hypothetical call was decided against. */
interface Source {
  /** `running`: asked of the daemon, on its live state; `applied`: the signed policy, no daemon; `unapplied`: governance.fms. */
  kind: 'running' | 'applied' | 'unapplied';
  policy_version?: string;
  /** What the answer cannot know, said beside it. */
  note?: string;
}

interface Walked {
  steps: Trace['steps'];
  rules: Trace['rules'];
  decision: Decision;
}

/**
 * faramesh explain --agent A --tool T --args JSON: walk the pipeline for a hypothetical call and
 * print every step. Asked of the running daemon, it is decided as a real call would be now: the
 * policy in force, its rate, budget, phase and selector state. With no daemon, the policy last
 * applied is walked on fresh state, and a stack never applied (or `--unapplied`) walks
 * governance.fms as written; the output says which.
 */
export async function explain(opts: ExplainOptions): Promise<number> {
  const out = makeOut(opts.noColor);
  // Malformed options are usage errors (64), as everywhere else.
  const parsed = parseJsonOptions(opts);
  if (typeof parsed === 'string') {
    out.error(out.fail(parsed));
    return 64;
  }
  const nowMs = opts.now === undefined ? Date.now() : parseRfc3339(opts.now);
  if (nowMs === undefined) {
    out.error(out.fail(`--now: '${opts.now}' is not an RFC 3339 time`));
    return 64;
  }
  const request: DecisionRequest = {
    agent_id: opts.agent,
    tool: opts.tool,
    args: parsed.args,
    ...(parsed.principal ? { principal: parsed.principal } : {}),
    ...(opts.model !== undefined ? { model: opts.model } : {}),
    ...(opts.session !== undefined ? { session_id: opts.session } : {}),
    ...(opts.tags !== undefined
      ? {
          tags: opts.tags
            .split(',')
            .map((t) => t.trim())
            .filter((t) => t !== ''),
        }
      : {}),
  };
  const paths = stackPaths(opts.dir);
  let ir: PolicyIR | undefined;
  let source: Source | undefined;
  let walked: Walked | undefined;
  if (!opts.unapplied) {
    try {
      const inForce = await policyInForce(paths);
      if (inForce) {
        ir = inForce.ir;
        source = { kind: inForce.source, policy_version: inForce.policy_version };
      }
    } catch (e) {
      out.error(out.fail(`the policy in force could not be read: ${(e as Error).message} (--unapplied walks governance.fms)`));
      return 1;
    }
    if (source?.kind === 'running') {
      try {
        const r = await operatorCall<Walked & { policy_version: string; mode: string; quiesced?: object }>(
          paths.operatorSocket,
          'explain',
          {
            ...request,
            ...(opts.now !== undefined ? { now_ms: nowMs } : {}),
          },
        );
        walked = r;
        source = {
          kind: 'running',
          policy_version: r.policy_version,
          // A quiesced agent is denied in audit mode too.
          ...(r.mode === 'audit' && !r.quiesced
            ? { note: 'runtime { mode = "audit" }: a real call runs whatever the effect, and is recorded with it' }
            : {}),
        };
      } catch (e) {
        if (!(e instanceof DaemonUnreachableError)) {
          out.error(out.fail(`the daemon could not explain the call: ${(e as Error).message}`));
          return 1;
        }
        source = { kind: 'applied', ...(source.policy_version ? { policy_version: source.policy_version } : {}) };
      }
    }
    if (source?.kind === 'applied')
      source.note = 'the daemon is not running: rate limits, budgets, phases and selectors are taken as fresh';
  }
  // A rule's text: the line as written for governance.fms walked as it is, else the rule as the
  // policy walked holds it (the file may have changed since it was applied).
  let lineOf: ((ref: string) => string | undefined) | undefined;
  if (!ir) {
    const { stack, result } = await compileStack(opts.dir);
    if (!result.ir) {
      for (const d of result.diagnostics.sorted()) out.error(renderDiagnostic(d, out.color) + '\n');
      return 2;
    }
    ir = result.ir;
    lineOf = (ref) => {
      const m = /^(.*):(\d+)$/.exec(ref);
      return m && m[1] === stack.source.name ? stack.source.lineText(Number(m[2])).trim() : undefined;
    };
    source = {
      kind: 'unapplied',
      note: opts.unapplied
        ? 'governance.fms as written, on fresh state'
        : 'no policy has been applied in this stack: governance.fms as written, on fresh state',
    };
  }
  if (!walked) {
    const trace = new Trace();
    // As the daemon does: claims count where a token could carry them or stated claims are trusted.
    if (request.principal && !ir.identities.some((i) => i.type === 'oidc') && ir.runtime.trust_sdk_principal !== true) {
      trace.step('principal', 'claims dropped: this stack verifies no principal tokens and trusts no stated claims');
      delete request.principal;
    }
    const { decision } = decide(prepare(ir), request, { ...emptyState(), policy_applied_ms: nowMs }, { nowMs }, { trace });
    walked = { steps: trace.steps, rules: trace.rules, decision };
  }
  const { decision, steps, rules } = walked;
  if (opts.format === 'json') {
    out.print(JSON.stringify({ request, policy: source, steps, rules, decision }, null, 2));
    return 0;
  }
  // Each rule's text by its ref, from the policy walked (not the file, which may have changed since).
  const texts = new Map(placedRules(ir).map((p) => [p.rule.ref, ruleText(p.rule)]));
  const text = (ref: string) => lineOf?.(ref) ?? texts.get(ref) ?? ref;
  out.print(`Explain: ${opts.agent} → ${opts.tool}`);
  out.print(`args:    ${JSON.stringify(decision.redacted_args)}`);
  out.print(
    `policy:  ${source!.kind === 'running' ? 'in force (asked of the running daemon)' : source!.kind === 'applied' ? 'in force (as last applied)' : 'governance.fms (not applied)'}${source!.policy_version ? ` ${source!.policy_version.slice(0, 16)}` : ''}`,
  );
  if (source!.note) out.print(`         ${source!.note}`);
  out.print('');
  out.print('Pipeline:');
  let n = 0;
  for (const step of steps) {
    if (step.stage === 'decision') continue;
    if (step.stage === 'identity' || rules.length === 0 || n > 0) out.print(`  ${++n}. ${step.stage.padEnd(14)} ${step.detail}`);
    if (step.stage === 'identity' && rules.length > 0) {
      out.print(`  ${++n}. rule match`);
      const width = Math.max(...rules.map((r) => text(r.ref).length));
      for (const r of rules) out.print(`       ${r.ref.padEnd(20)} ${text(r.ref).padEnd(width)}  → ${r.result}`);
    }
  }
  out.print('');
  out.print(`Effect:    ${decision.effect}${decision.code ? ` (${decision.code})` : ''}`);
  if (decision.human_message) out.print(`Reason:    ${decision.human_message}`);
  if (decision.rule_ref) out.print(`Rule ref:  ${decision.rule_ref}`);
  for (const s of decision.signals) out.print(`Signal:    ${s.code} — ${s.human_message}`);
  return 0;
}

function parseJsonOptions(opts: ExplainOptions): { args: Record<string, unknown>; principal?: Record<string, unknown> } | string {
  const obj = (name: string, text: string | undefined): Record<string, unknown> | string | undefined => {
    if (text === undefined) return undefined;
    try {
      const v: unknown = JSON.parse(text);
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return `--${name} must be a JSON object`;
      return v as Record<string, unknown>;
    } catch (e) {
      return `--${name} is not valid JSON: ${(e as Error).message}`;
    }
  };
  const args = obj('args', opts.args) ?? {};
  const principal = obj('principal', opts.principal);
  if (typeof args === 'string') return args;
  if (typeof principal === 'string') return principal;
  return { args, ...(principal ? { principal } : {}) };
}
