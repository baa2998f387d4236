/**
 * What an McpProxy under test is given: one stdio server (`h` unless named) run by node with `args`, every call
 * permitted, every tool visible, nothing recorded. Tests override what they exercise.
 */
import type { ProxyDeps } from '../src/mcp/proxy.js';
import { TaskBook } from '../src/mcp/tasks.js';

export function testProxyDeps(args: string[], overrides: Partial<ProxyDeps> = {}, name = 'h'): ProxyDeps {
  return {
    servers: () => [{ name, command: process.execPath, args, env: {}, headers: {}, ref: 'test:1' }],
    decide: (params) => ({ call_id: params.call_id ?? '', action_id: 'action-1', effect: 'PERMIT', latency_ms: 0 }),
    visible: () => true,
    filterTools: () => true,
    denyAsError: () => false,
    record: () => {},
    tasks: new TaskBook(() => {}),
    agentFor: () => undefined,
    ready: () => true,
    stackDir: process.cwd(),
    env: process.env,
    say: () => {},
    ...overrides,
  };
}
