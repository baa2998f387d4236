/**
 * Tool ids arrive from agents: anything odd is refused before matching, so a crafted id can
 * never slip between patterns (`stripe//payouts`, `stripe/./payouts`, NUL bytes, white space or
 * invisible characters, spellings that differ only by Unicode normalisation).
 */
export type ToolIdCheck = { tool: string } | { problem: string };

/** Printable ASCII without '/' runs or dot segments is already NFC and valid: the common case, checked without allocating. */
const PLAIN = /^(?:[!-.0-~]+)(?:\/[!-.0-~]+)*$/;

const memo = new Map<string, ToolIdCheck>();

export function checkToolId(tool: unknown): ToolIdCheck {
  if (typeof tool !== 'string') return { problem: 'the tool id is not a string' };
  if (tool.length > 0 && tool.length <= 1024 && PLAIN.test(tool) && !/(?:^|\/)\.\.?(?:\/|$)/.test(tool)) return { tool };
  const hit = memo.get(tool);
  if (hit) return hit;
  const result = slowCheck(tool);
  if (memo.size >= 4096) memo.clear();
  memo.set(tool, result);
  return result;
}

function slowCheck(tool: string): ToolIdCheck {
  const id = tool.normalize('NFC');
  if (id.length === 0) return { problem: 'the tool id is empty' };
  if (id.length > 1024) return { problem: 'the tool id is longer than 1024 characters' };
  if (/\p{Cc}/u.test(id)) return { problem: 'the tool id contains a control character' };
  // `pay/refund ` or `pay/refund\u200b` misses `deny pay/refund` and still matches `permit pay/*`: a
  // tool that trims or strips what cannot be seen would run the one denied. No tool is named so.
  // Invisible is more than format characters: variation selectors, the combining grapheme joiner and
  // the Hangul fillers are marks or letters that Unicode also says to ignore when showing text.
  if (/[\p{Z}\s\p{Cf}\p{Default_Ignorable_Code_Point}]/u.test(id))
    return { problem: 'the tool id contains white space or an invisible formatting character' };
  for (const segment of id.split('/')) {
    if (segment === '') return { problem: 'the tool id has an empty segment' };
    if (segment === '.' || segment === '..') return { problem: `the tool id has a '${segment}' segment` };
  }
  return { tool: id };
}
