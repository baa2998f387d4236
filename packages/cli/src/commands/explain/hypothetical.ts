import { decide, emptyState, prepare, Trace } from '@faramesh/engine';
import type { DecisionRequest } from '@faramesh/protocol';
import { makeOut } from '../../output.js';
import { renderDiagnostic } from '../../diagnostics.js';
import { compileStack } from '../../stack-compile.js';

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
  format?: 'text' | 'json';
  noColor?: boolean;
}

/**
 * faramesh explain --agent A --tool T --args JSON: walk the pipeline for a hypothetical call and
 * print every step. (Explaining a recorded decision by its action id needs the audit log.)
 */
export async function explain(opts: ExplainOptions): Promise<number> {
  const out = makeOut(opts.noColor);
  const parsed = parseJsonOptions(opts);
  if (typeof parsed === 'string') {
    out.error(out.fail(parsed));
    return 1;
  }
  const nowMs = opts.now === undefined ? Date.now() : Date.parse(opts.now);
  if (!Number.isFinite(nowMs)) {
    out.error(out.fail(`--now: '${opts.now}' is not an RFC 3339 time`));
    return 1;
  }
  const { stack, result } = await compileStack(opts.dir);
  if (!result.ir) {
    for (const d of result.diagnostics.sorted()) out.error(renderDiagnostic(d, out.color) + '\n');
    return 2;
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
  const trace = new Trace();
  const { decision } = decide(prepare(result.ir), request, { ...emptyState(), policy_applied_ms: nowMs }, { nowMs }, { trace });
  if (opts.format === 'json') {
    out.print(JSON.stringify({ request, steps: trace.steps, rules: trace.rules, decision }, null, 2));
    return 0;
  }
  const sourceLine = (ref: string) => {
    const m = /^(.*):(\d+)$/.exec(ref);
    return m && m[1] === stack.source.name ? stack.source.lineText(Number(m[2])).trim() : `${ref}`;
  };
  out.print(`Explain: ${opts.agent} → ${opts.tool}`);
  out.print(`args:    ${JSON.stringify(decision.redacted_args)}\n`);
  out.print('Pipeline:');
  let n = 0;
  for (const step of trace.steps) {
    if (step.stage === 'decision') continue;
    if (step.stage === 'identity' || trace.rules.length === 0 || n > 0) out.print(`  ${++n}. ${step.stage.padEnd(14)} ${step.detail}`);
    if (step.stage === 'identity' && trace.rules.length > 0) {
      out.print(`  ${++n}. rule match`);
      const width = Math.max(...trace.rules.map((r) => sourceLine(r.ref).length));
      for (const r of trace.rules) out.print(`       ${r.ref.padEnd(20)} ${sourceLine(r.ref).padEnd(width)}  → ${r.result}`);
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
