/** Text → composed YAML tree, with syntax problems reported as diagnostics (never thrown). */
import { CST, isScalar, Lexer, parseDocument, visit, type Node as YNode } from 'yaml';
import type { FormContext } from './context.js';
import { findJsonError } from './json-syntax.js';

/**
 * The yaml composer recurses once per nesting level and a stack overflow inside it can take the
 * process down, so deeper input is refused up front. Real policies nest well under a dozen levels.
 */
const MAX_YAML_DEPTH = 256;
/** Lexer tokens that mark structure but are not text of the source. */
const MARKERS = new Set<string>([CST.DOCUMENT, CST.FLOW_END, CST.SCALAR]);

export function loadDocument(ctx: FormContext, json: boolean): { root: YNode | null } | undefined {
  const text = ctx.source.text;
  const code = json ? 'json-syntax' : 'yaml-syntax';
  // As in FPL (the lexer's checkHidden): a line break other than \n and bidirectional controls make
  // editors and code review show text that is not what the loader reads. In YAML a lone CR or U+2028
  // inside a comment hides the rest of the physical line from the policy ("trojan source").
  const hidden = /\r(?!\n)|[\u2028\u2029\u202a-\u202e\u2066-\u2069]/.exec(text);
  if (hidden) {
    const hex = hidden[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    ctx.diagnostics.error(
      ctx.source,
      { start: hidden.index, end: hidden.index + 1 },
      'hidden-character',
      `U+${hex} can make editors show text that is not what the policy says`,
      hidden[0] === '\r' ? 'end lines with \\n (or \\r\\n)' : 'remove it (inside a quoted string, write it as a \\uXXXX escape)',
    );
    return undefined;
  }
  if (json && !validJson(ctx)) return undefined;
  const deep = tooDeepAt(text);
  if (deep !== undefined) {
    ctx.diagnostics.error(ctx.source, { start: deep, end: deep + 1 }, 'too-deep', `nested more than ${MAX_YAML_DEPTH} levels deep`);
    return undefined;
  }
  let doc;
  try {
    // Duplicate keys are found below, with a set per mapping: the library's own check compares each
    // key with every earlier one, which takes minutes on a mapping of 100,000 keys.
    doc = parseDocument(text, { prettyErrors: false, uniqueKeys: false });
  } catch (e) {
    ctx.diagnostics.error(ctx.source, { start: 0, end: 0 }, code, `could not read the file: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
  const clamp = (n: number | undefined): number => Math.max(0, Math.min(text.length, n ?? 0));
  for (const e of doc.errors) {
    const message = e.code === 'MULTIPLE_DOCS' ? 'a policy file holds a single YAML document' : e.message;
    const hint = e.code === 'MULTIPLE_DOCS' ? "remove the '---' separator and what follows, or merge the documents" : undefined;
    ctx.diagnostics.error(ctx.source, { start: clamp(e.pos[0]), end: clamp(e.pos[1]) }, code, message, hint);
  }
  for (const w of doc.warnings) {
    ctx.diagnostics.warning(ctx.source, { start: clamp(w.pos[0]), end: clamp(w.pos[1]) }, 'yaml-warning', w.message);
  }
  let duplicate = false;
  if (doc.errors.length === 0)
    visit(doc, {
      Map(_, map) {
        const seen = new Set<unknown>();
        for (const pair of map.items) {
          const key: unknown = isScalar(pair.key) ? pair.key.value : pair.key;
          if (!seen.has(key)) {
            seen.add(key);
            continue;
          }
          const at = (pair.key as YNode | null)?.range?.[0];
          ctx.diagnostics.error(
            ctx.source,
            { start: clamp(at), end: clamp(at === undefined ? at : at + 1) },
            code,
            'Map keys must be unique',
          );
          duplicate = true;
        }
      },
    });
  if (doc.errors.length > 0 || duplicate) return undefined;
  return { root: (doc.contents as YNode | null) ?? null };
}

/** `.json` files must be JSON proper: YAML-only syntax (comments, unquoted keys, …) is refused. */
function validJson(ctx: FormContext): boolean {
  const text = ctx.source.text;
  const start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  try {
    JSON.parse(start ? text.slice(start) : text);
    return true;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const reported = /at position (\d+)/.exec(message);
    const found = findJsonError(text, start) ?? { offset: reported ? start + Number(reported[1]) : text.length, message };
    const offset = Math.min(found.offset, text.length);
    const comment = text[offset] === '#' || text.startsWith('//', offset) || text.startsWith('/*', offset);
    const hint = comment ? 'JSON has no comments; write the policy as governance.fms.yaml to keep them' : undefined;
    ctx.diagnostics.error(
      ctx.source,
      { start: offset, end: Math.min(text.length, offset + 1) },
      'json-syntax',
      `invalid JSON: ${comment ? 'comments are not allowed' : found.message}`,
      hint,
    );
    return false;
  }
}

/**
 * Where the nesting first exceeds the limit, estimated from lexer tokens (the lexer is iterative):
 * flow brackets count one level each; block levels are bounded by twice the indentation levels
 * open plus the `- `, `? ` and `: ` indicators on the line.
 */
function tooDeepAt(text: string): number | undefined {
  let offset = 0;
  let flow = 0;
  let atLineStart = true;
  let lineStart = 0;
  let indicators = 0;
  const indents: number[] = [];
  for (const token of new Lexer().lex(text)) {
    const type = CST.tokenType(token);
    if (type === 'newline') {
      atLineStart = true;
      indicators = 0;
      lineStart = offset + token.length;
    } else if (type === 'flow-map-start' || type === 'flow-seq-start') flow++;
    else if (type === 'flow-map-end' || type === 'flow-seq-end') flow = Math.max(0, flow - 1);
    else if (flow === 0 && (type === 'seq-item-ind' || type === 'explicit-key-ind' || type === 'map-value-ind')) indicators++;
    if (atLineStart && flow === 0 && type !== 'newline' && type !== 'space' && type !== 'comment' && !MARKERS.has(token)) {
      const indent = offset - lineStart;
      while (indents.length > 0 && indents[indents.length - 1]! >= indent) indents.pop();
      indents.push(indent);
      atLineStart = false;
    }
    if (2 * indents.length + indicators + flow > MAX_YAML_DEPTH) return offset;
    if (!MARKERS.has(token)) offset += token.length;
  }
  return undefined;
}
