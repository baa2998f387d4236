import type { AgentIR } from '@faramesh/fpl/runtime';
import type { DecisionRequest } from '@faramesh/protocol';
import { liveSpawns, type DeltaOp, type EngineState } from '../state.js';

/**
 * A spawn is a call with `action: "spawn"` (the child's type in `args.type`) or a tool
 * `spawn/<type>`. With a `spawn { }` block, the type must be in `allowed_types` (or `allow`), and
 * fewer than `max_concurrent` children may be alive; a permitted spawn counts one more.
 */
export function spawnType(request: DecisionRequest, tool: string): string | undefined {
  if (request.action === 'spawn') {
    const t = request.args?.type;
    return typeof t === 'string' ? t : '';
  }
  return tool.startsWith('spawn/') ? tool.slice('spawn/'.length) : undefined;
}

export function checkSpawn(agent: AgentIR, type: string, state: EngineState): { refused: string } | { delta: DeltaOp } {
  const spawn = agent.spawn!;
  const allowed = [...spawn.allowed_types, ...spawn.allow];
  if (allowed.length > 0 && !allowed.includes(type))
    return { refused: `denied: agent '${agent.id}' may not spawn '${type || '(no type)'}'` };
  const live = liveSpawns(state, agent.id);
  if (spawn.max_concurrent !== undefined && live >= spawn.max_concurrent)
    return { refused: `denied: agent '${agent.id}' already has ${live} live children (max_concurrent ${spawn.max_concurrent})` };
  return { delta: { kind: 'spawn', key: agent.id, live: live + 1 } };
}

/**
 * The agent a delegation hands work to: the tool `delegate/<agent>`, or `args.target_agent` of a call
 * whose action is `delegate`. An argument alone makes no delegation: the model writes the arguments,
 * and a `target_agent` in any permitted call's would mint a token past the `delegate/…` rules.
 */
export function delegateTarget(request: DecisionRequest, tool: string): string | undefined {
  if (tool.startsWith('delegate/')) return tool.slice('delegate/'.length);
  if (request.action !== 'delegate') return undefined;
  const named = request.args?.target_agent;
  return typeof named === 'string' ? named : '';
}
