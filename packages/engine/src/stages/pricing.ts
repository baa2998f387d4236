/**
 * Bundled model prices in dollars per million tokens (input, output), used when a call reports
 * model usage but no cost. Matched by model-name prefix, longest first. Approximate list prices;
 * a call's own `cost_usd` always wins.
 */
const PRICES: [prefix: string, input: number, output: number][] = (
  [
    ['claude-opus-4', 15, 75],
    ['claude-sonnet-4', 3, 15],
    ['claude-3-5-sonnet', 3, 15],
    ['claude-3-5-haiku', 0.8, 4],
    ['claude-haiku-4', 1, 5],
    ['gpt-4.1-nano', 0.1, 0.4],
    ['gpt-4.1-mini', 0.4, 1.6],
    ['gpt-4.1', 2, 8],
    ['gpt-4o-mini', 0.15, 0.6],
    ['gpt-4o', 2.5, 10],
    ['o3-mini', 1.1, 4.4],
    ['o3', 2, 8],
    ['gemini-2.5-pro', 1.25, 10],
    ['gemini-2.5-flash', 0.3, 2.5],
  ] as [string, number, number][]
).sort((a, b) => b[0].length - a[0].length);

export function priceUsage(model: string | undefined, inputTokens = 0, outputTokens = 0): number | undefined {
  if (!model) return undefined;
  const row = PRICES.find(([prefix]) => model.startsWith(prefix));
  if (!row) return undefined;
  return (Math.max(0, inputTokens) * row[1] + Math.max(0, outputTokens) * row[2]) / 1_000_000;
}
