/**
 * Selectors (`selector "user_role" { source, cache, on_unavailable, on_timeout }`): values from
 * outside the call, fetched here, off the decision path, into the engine state the engine reads.
 * Decisions stay deterministic: they read the cached value, never wait for a fetch. Each source is
 * fetched when the policy comes into use and then at half its `cache`, so a source that answers keeps
 * its value fresh. A fetch that fails keeps the last value until its `cache` runs out; without one,
 * the engine applies `on_timeout` (it timed out) or `on_unavailable` (anything else).
 */
import type { PolicyIR, SelectorIR } from '@faramesh/fpl';
import { selectorKey, type EngineState } from '@faramesh/engine';
import { replyText } from '../outbound/reply-text.js';
import { MAX_TIMER_MS } from './timers.js';
import { daemonNow } from './clock.js';

/** How long one fetch may take: a selector is a quick lookup, and a slow one is `on_timeout`. */
const TIMEOUT_MS = 2000;
/** Refresh interval without a `cache` (the value then never goes stale). */
const DEFAULT_EVERY_MS = 60_000;
/** The shortest refresh: a `cache` of a fraction of a second is refreshed at most ten times a second. */
const MIN_EVERY_MS = 100;
/** The most of a reply that is read: a role, a flag, a small document. */
const MAX_REPLY = 64 << 10;

export class SelectorFetcher {
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly ir: PolicyIR,
    private readonly state: EngineState,
    private readonly say: (line: string) => void,
  ) {}

  start(): void {
    // A value is kept across a swap only for a selector still declared with the same source: one
    // another source gave is not this selector's, whatever its age.
    const declared = new Map(this.ir.agents.flatMap((a) => a.selectors.map((s) => [selectorKey(a.id, s.id), s.source] as const)));
    for (const [key, entry] of Object.entries(this.state.selectors))
      if (!declared.has(key) || entry.source !== declared.get(key)) delete this.state.selectors[key];
    for (const agent of this.ir.agents) for (const s of agent.selectors) this.loop(agent.id, s);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private loop(agent: string, s: SelectorIR): void {
    // At half the cache, so that a source that answers keeps its value fresh: a floor above half a
    // short cache would leave the value stale between refreshes, and a delay past a timer's range
    // (a cache over about 49 days) would be run at once, fetching the source in a tight loop.
    const every = Math.min(MAX_TIMER_MS, Math.max(MIN_EVERY_MS, s.cache_s !== undefined ? (s.cache_s * 1000) / 2 : DEFAULT_EVERY_MS));
    const run = async (): Promise<void> => {
      if (this.stopped) return;
      await this.fetchOnce(agent, s);
      if (this.stopped) return;
      const t = setTimeout(() => {
        this.timers.delete(t);
        void run();
      }, every);
      t.unref();
      this.timers.add(t);
    };
    void run();
  }

  /** Fetch one selector's source and store its value, or why there is none. */
  async fetchOnce(agent: string, s: SelectorIR): Promise<void> {
    const key = selectorKey(agent, s.id);
    const fetchedMs = daemonNow();
    try {
      const url = sourceUrl(s.source);
      const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'error', headers: { accept: 'application/json' } });
      const { text, cut } = await replyText(res, MAX_REPLY);
      if (!res.ok) throw new Error(`${res.status} ${res.statusText}`);
      if (cut) throw new Error(`a reply over ${MAX_REPLY >> 10} KiB`);
      if (this.stopped) return;
      this.state.selectors[key] = { value: parse(text), fetched_ms: fetchedMs, source: s.source };
    } catch (e) {
      if (this.stopped) return;
      const timedOut = (e as Error).name === 'TimeoutError' || (e as Error).name === 'AbortError';
      const last = this.state.selectors[key];
      const fresh =
        last && !last.error && last.source === s.source && (s.cache_s === undefined || fetchedMs - last.fetched_ms <= s.cache_s * 1000);
      // The last value holds until its cache runs out; after that, the fallback the failure names.
      if (!fresh) this.state.selectors[key] = { error: timedOut ? 'timeout' : 'unavailable', fetched_ms: fetchedMs, source: s.source };
      this.say(`selector ${s.id} (agent ${agent}): ${timedOut ? `no answer within ${TIMEOUT_MS} ms` : (e as Error).message}`);
    }
  }
}

/** The source as a URL to fetch: https, or plain http to this machine only (a value in clear could be changed on the way). */
function sourceUrl(source: string): URL {
  const url = URL.canParse(source) ? new URL(source) : undefined;
  const loopback = url?.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url?.protocol !== 'https:' && !loopback)
    throw new Error(`the source ${JSON.stringify(source)} is not an https:// URL (or http:// on this machine)`);
  return url!;
}

/** A JSON reply is its value; anything else is its text, trimmed (`admin\n` is `admin`). */
function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text.trim();
  }
}
