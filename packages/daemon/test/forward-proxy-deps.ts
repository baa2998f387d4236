/**
 * A ForwardProxy under test: every host resolves to loopback, every call is permitted, no agent
 * token is known, nothing is said. Tests override what they exercise.
 */
import { ForwardProxy, type ForwardDeps } from '../src/http-proxy/forward.js';
import type { GovernResult } from '../src/wire/agent-protocol.js';

export function loopbackProxy(overrides: Partial<ForwardDeps> = {}): ForwardProxy {
  return new ForwardProxy({
    lookup: async () => ['127.0.0.1'],
    decide: (): GovernResult => ({ effect: 'PERMIT', action_id: 'action-1' }) as GovernResult,
    agentFor: () => undefined,
    ready: () => true,
    say: () => {},
    ...overrides,
  });
}
