import { modelFamily } from './models.js';

/**
 * Bundled model prices in dollars per million tokens (input, output), used when a call reports
 * model usage but no cost. Approximate list prices; a call's own `cost_usd` is taken, never below the policy's declared cost.
 *
 * A model name is matched after normalising the ways providers spell the same model (see
 * `modelFamily`), against the longest entry that is the whole name or is followed by `-`, so a
 * dated or versioned name (`gpt-4o-2024-08-06`) takes its family's price while `gpt-4o` does not
 * price `gpt-4o-mini` nor `gpt-4` price `gpt-4.5-preview`. Dearer variants of a family (`o3-pro`)
 * have entries of their own for that reason.
 */
const PRICES: [family: string, input: number, output: number][] = (
  [
    // Anthropic
    ['claude-opus-4-5', 5, 25],
    ['claude-opus-4', 15, 75],
    ['claude-sonnet-4', 3, 15],
    ['claude-haiku-4', 1, 5],
    ['claude-3-7-sonnet', 3, 15],
    ['claude-3-5-sonnet', 3, 15],
    ['claude-3-5-haiku', 0.8, 4],
    ['claude-3-opus', 15, 75],
    ['claude-3-sonnet', 3, 15],
    ['claude-3-haiku', 0.25, 1.25],
    // OpenAI
    ['gpt-5', 1.25, 10],
    ['gpt-5-mini', 0.25, 2],
    ['gpt-5-nano', 0.05, 0.4],
    ['gpt-5-pro', 15, 120],
    ['gpt-4.5', 75, 150],
    ['gpt-4.1', 2, 8],
    ['gpt-4.1-mini', 0.4, 1.6],
    ['gpt-4.1-nano', 0.1, 0.4],
    ['gpt-4o', 2.5, 10],
    ['gpt-4o-mini', 0.15, 0.6],
    ['gpt-4-turbo', 10, 30],
    ['gpt-4-32k', 60, 120],
    ['gpt-4', 30, 60],
    ['gpt-3.5-turbo', 0.5, 1.5],
    ['o1', 15, 60],
    ['o1-mini', 1.1, 4.4],
    ['o1-pro', 150, 600],
    ['o3', 2, 8],
    ['o3-mini', 1.1, 4.4],
    ['o3-pro', 20, 80],
    ['o3-deep-research', 10, 40],
    ['o4-mini', 1.1, 4.4],
    // Google
    ['gemini-2.5-pro', 1.25, 10],
    ['gemini-2.5-flash', 0.3, 2.5],
    ['gemini-2.5-flash-lite', 0.1, 0.4],
    ['gemini-2.0-flash', 0.1, 0.4],
    ['gemini-2.0-flash-lite', 0.075, 0.3],
    ['gemini-1.5-pro', 1.25, 5],
    ['gemini-1.5-flash', 0.075, 0.3],
  ] as [string, number, number][]
).sort((a, b) => b[0].length - a[0].length);

function priceOf(model: string): [string, number, number] | undefined {
  const name = modelFamily(model);
  return PRICES.find(([family]) => name === family || (name.startsWith(family) && name[family.length] === '-'));
}

export function priceUsage(model: string | undefined, inputTokens = 0, outputTokens = 0): number | undefined {
  if (!model) return undefined;
  const row = priceOf(model);
  if (!row) return undefined;
  return (Math.max(0, inputTokens) * row[1] + Math.max(0, outputTokens) * row[2]) / 1_000_000;
}
