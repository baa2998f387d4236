/**
 * Which request headers the HTTP proxies keep from the policy (and so from approvals, sinks and the
 * log): every common way of carrying a credential, and nothing a rule commonly reads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SECRET } from '../src/http-proxy/http-common.js';

test('credential headers are hidden from the policy, by any of their usual names', () => {
  for (const name of [
    'authorization',
    'proxy-authorization',
    'cookie',
    'set-cookie',
    'x-api-key',
    'api-key',
    'apikey',
    'x-goog-api-key',
    'ocp-apim-subscription-key',
    'x-auth-token',
    'x-amz-security-token',
    'x-csrf-token',
    'x-client-secret',
    'x-session-id',
    'x-hub-signature-256',
    'x-db-password',
    'x-service-credential',
  ])
    assert.ok(SECRET.test(name), name);
});

test('ordinary headers stay visible to rules', () => {
  for (const name of [
    'content-type',
    'accept',
    'user-agent',
    'x-tenant',
    'x-request-id',
    'traceparent',
    'host',
    'content-length',
    'keyboard',
  ])
    assert.ok(!SECRET.test(name), name);
});
