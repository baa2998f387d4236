import { test } from 'node:test';
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { ownAddresses } from '../src/http-proxy/own-addresses.js';

test("ownAddresses: the addresses of this machine's interfaces (IPv6 bracketed or not), and no others", () => {
  const mine = Object.values(networkInterfaces()).flatMap((l) => (l ?? []).map((e) => e.address));
  assert.ok(mine.includes('127.0.0.1'));
  const v4 = mine.filter((a) => !a.includes(':'));
  assert.deepEqual(ownAddresses(v4), v4);
  const v6 = mine.filter((a) => a.includes(':') && !a.includes('%'));
  assert.deepEqual(
    ownAddresses(v6.map((a) => `[${a}]`)),
    v6.map((a) => `[${a}]`),
  );
  // Written another way, the same address is still this machine's.
  if (mine.includes('::1')) assert.deepEqual(ownAddresses(['0:0:0:0:0:0:0:1']), ['0:0:0:0:0:0:0:1']);
  assert.deepEqual(ownAddresses(['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946', 'not an address']), []);
});
