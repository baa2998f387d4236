import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressClass } from '../src/index.js';

// Each range is refused to its last address and no further: a prefix one bit too long would leave
// the top half of the range (fe80::/10 reaches febf::, 198.18.0.0/15 reaches 198.19.255.255) reachable.
test('addressClass: the far end of each range that spans more than one block', () => {
  const cases: [string, string | undefined][] = [
    ['febf:ffff::1', 'link-local'],
    ['fe90::1', 'link-local'],
    ['fec0::1', undefined],
    ['198.19.255.254', 'benchmarking'],
    ['198.20.0.1', undefined],
    ['100.127.255.254', 'shared (CGNAT)'],
    ['100.128.0.1', undefined],
    ['fdff::1', 'private (unique local)'],
  ];
  for (const [address, kind] of cases) assert.equal(addressClass(address), kind, address);
});

// A zone id names an interface: the address is judged without it, and a mapped IPv4 address with
// one is the IPv4 address it carries (not the reserved 255.255.x.x its digits would read as in hex).
test('addressClass: an address with a zone id is judged as the address', () => {
  assert.equal(addressClass('::ffff:127.0.0.1%eth0'), 'loopback');
  assert.equal(addressClass('[64:ff9b::169.254.169.254%25eth0]'), 'link-local or metadata');
});
