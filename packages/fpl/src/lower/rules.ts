import type { ClauseValue, RuleNode, ToolPatternNode } from '../syntax/ast.js';
import type { RuleIR } from '../ir.js';
import { patternProblem } from '../patterns.js';
import type { LowerContext } from './context.js';
import { lowerExpr, type Scope } from './expr.js';
import { normaliseEgressHost } from './hosts.js';
import { closest } from '../syntax/suggest.js';

/** NFC-normalise and validate a tool pattern; undefined after reporting when malformed. */
export function lowerToolPattern(
  ctx: LowerContext,
  node: ToolPatternNode | { value: string; span: { start: number; end: number } },
): string | undefined {
  const text = ('text' in node ? node.text : node.value).normalize('NFC');
  const problem = patternProblem(text);
  if (problem) {
    ctx.error(node.span, 'invalid-pattern', `tool pattern '${text}' ${problem}`);
    return undefined;
  }
  return text;
}

export function lowerRule(ctx: LowerContext, node: RuleNode, scope: Scope): RuleIR | undefined {
  const tool = lowerToolPattern(ctx, node.tool);
  const when = node.condition ? lowerExpr(ctx, node.condition, scope) : undefined;
  if (tool === undefined || (node.condition && !when)) return undefined;
  const rule: RuleIR = { effect: node.effect, tool, ref: ctx.ref(node.span) };
  if (node.strict) rule.strict = true;
  if (when) rule.when = when;
  if (node.host) {
    // Normalised exactly as request hosts are (lowercase, IDNA, no trailing dot), so a clause cannot miss by spelling.
    const host = clause(ctx, node.host, scope, 'host');
    const normalised = host === undefined || host === '*' ? host : normaliseEgressHost(host);
    if (typeof normalised === 'object') ctx.error(node.host.span, 'invalid-value', `host '${host}' ${normalised.problem}`, normalised.hint);
    else rule.host = normalised;
  }
  if (node.method) {
    const method = clause(ctx, node.method, scope, 'method');
    if (method !== undefined && !/^[A-Za-z]+$|^\*$/.test(method))
      ctx.error(node.method.span, 'invalid-value', `'${method}' is not an HTTP method`, 'e.g. method GET');
    rule.method = method?.toUpperCase();
  }
  if (node.path) rule.path = clause(ctx, node.path, scope, 'path');
  if (node.reason) rule.reason = node.reason.value;
  if (node.notify) rule.notify = node.notify.value;
  for (const key of ['host', 'method', 'path'] as const) if (rule[key] === undefined) delete rule[key];
  if (ctx.origin) rule.origin = ctx.origin;
  return ctx.track(rule, { start: node.span.start, end: node.tool.span.end });
}

/** A clause value: a quoted string, a bare word, or the name of a `var`. */
function clause(ctx: LowerContext, value: ClauseValue, scope: Scope, name: string): string | undefined {
  if (value.kind === 'Word' && scope.vars.has(value.value)) {
    const v = scope.vars.get(value.value);
    if (typeof v !== 'string') {
      ctx.error(value.span, 'invalid-value', `var '${value.value}' used as ${name} must be a string`);
      return undefined;
    }
    return v;
  }
  if (value.value === '') {
    ctx.error(value.span, 'invalid-value', `${name} cannot be empty`);
    return undefined;
  }
  // A bare word that is almost a declared var is most likely that var misspelt: taken literally,
  // the clause would match nothing (a deny that never applies).
  const meant = value.kind === 'Word' ? closest(value.value, scope.vars.keys()) : undefined;
  if (meant !== undefined)
    ctx.warning(
      value.span,
      'unknown-var',
      `${name} '${value.value}' is not a declared var, so it is taken literally`,
      `did you mean the var '${meant}'? Quote the value if the literal is meant`,
    );
  return value.value;
}
