/**
 * The selector fetcher refreshes a source at half its `cache`: never in a tight loop for a long
 * cache (a timer past 2^31 - 1 ms fires at once), and often enough for a short one that a source
 * that answers keeps its value fresh.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PolicyIR } from '@faramesh/fpl';
import { emptyState, selectorKey } from '@faramesh/engine';
import { SelectorFetcher } from '../src/core/selectors.js';

async function withSource(run: (url: string, fetches: () => number) => Promise<void>): Promise<void> {
  let n = 0;
  const server = createServer((_req, res) => {
    n++;
    setTimeout(() => res.writeHead(200).end('"admin"'), 20);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}/role`, () => n);
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

const irWith = (source: string, cache_s: number) =>
  ({
    agents: [{ id: 'bot', selectors: [{ id: 'role', source, cache_s, on_unavailable: 'deny', on_timeout: 'deny' }] }],
  }) as unknown as PolicyIR;

test('a long cache (60 days) is not refreshed in a tight loop', async () => {
  await withSource(async (url, fetches) => {
    const f = new SelectorFetcher(irWith(url, 60 * 86400), emptyState(), () => {});
    f.start();
    try {
      await new Promise((r) => setTimeout(r, 1000));
      assert.ok(fetches() <= 2, `${fetches()} fetches in a second`);
    } finally {
      f.stop();
    }
  });
});

test('a short cache (1s) is refreshed before it goes stale', async () => {
  await withSource(async (url) => {
    const state = emptyState();
    const f = new SelectorFetcher(irWith(url, 1), state, () => {});
    f.start();
    try {
      while (!state.selectors[selectorKey('bot', 'role')]) await new Promise((r) => setTimeout(r, 10));
      let stale = 0;
      for (let i = 0; i < 150; i++) {
        if (Date.now() - state.selectors[selectorKey('bot', 'role')]!.fetched_ms > 1000) stale++;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(stale, 0, `the value was older than its cache at ${stale} of 150 reads`);
    } finally {
      f.stop();
    }
  });
});
