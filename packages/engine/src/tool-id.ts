/**
 * Tool ids arrive from agents: anything odd is refused before matching, so a crafted id can
 * never slip between patterns (`stripe//payouts`, `stripe/./payouts`, NUL bytes, homoglyph
 * spellings that differ only by Unicode normalisation).
 */
export function checkToolId(tool: unknown): { tool: string } | { problem: string } {
  if (typeof tool !== 'string') return { problem: 'the tool id is not a string' };
  const id = tool.normalize('NFC');
  if (id.length === 0) return { problem: 'the tool id is empty' };
  if (id.length > 1024) return { problem: 'the tool id is longer than 1024 characters' };
  if (/[\u0000-\u001f\u007f]/.test(id)) return { problem: 'the tool id contains a control character' };
  for (const segment of id.split('/')) {
    if (segment === '') return { problem: 'the tool id has an empty segment' };
    if (segment === '.' || segment === '..') return { problem: `the tool id has a '${segment}' segment` };
  }
  return { tool: id };
}
