import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLoopbackHost } from '../src/wire/http-api.js';

test('the URL the daemon prints for a wildcard http_listen is a loopback Host for a client on this machine', () => {
  // http_listen = "0.0.0.0:8443" is printed (ready line, status) as http://0.0.0.0:8443.
  for (const host of ['0.0.0.0:8443', '0.0.0.0', '[::]:8443', 'localhost:1', 'LOCALHOST.:2', '127.0.0.1', '[::1]:3'])
    assert.ok(isLoopbackHost(host), host);
  for (const host of ['attacker.example:8443', '0.0.0.0.attacker.example', '[::2]:1', '10.0.0.1:1']) assert.ok(!isLoopbackHost(host), host);
});
