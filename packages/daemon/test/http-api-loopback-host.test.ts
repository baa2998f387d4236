import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLoopback, isLoopbackHost } from '../src/wire/http-api.js';

test('the URL the daemon prints for a wildcard http_listen is a loopback Host for a client on this machine', () => {
  // http_listen = "0.0.0.0:8443" is printed (ready line, status) as http://0.0.0.0:8443.
  for (const host of ['0.0.0.0:8443', '0.0.0.0', '[::]:8443', 'localhost:1', 'LOCALHOST.:2', '127.0.0.1', '[::1]:3'])
    assert.ok(isLoopbackHost(host), host);
  for (const host of [
    'attacker.example:8443',
    '0.0.0.0.attacker.example',
    'localhost.attacker.example',
    '127.0.0.1.nip.io',
    '[::2]:1',
    '10.0.0.1:1',
  ])
    assert.ok(!isLoopbackHost(host), host);
});

test('only a loopback peer address counts as this machine: any other may send a request only with a bearer token', () => {
  for (const address of ['127.0.0.1', '127.9.8.7', '::1', '::ffff:127.0.0.1']) assert.ok(isLoopback(address), address);
  // A LAN, public or wildcard peer, or an IPv6 address that embeds one, is remote; so is an unknown peer.
  for (const address of [
    '10.0.0.5',
    '192.168.1.20',
    '172.17.0.1',
    '8.8.8.8',
    '0.0.0.0',
    '::2',
    '::',
    '::ffff:10.0.0.5',
    'fe80::1',
    undefined,
    '',
  ])
    assert.ok(!isLoopback(address), String(address));
});
