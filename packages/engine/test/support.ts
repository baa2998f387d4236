import { compile, Source } from '@faramesh/fpl';
import type { Decision, DecisionRequest } from '@faramesh/protocol';
import { applyDelta, checkCompletion, decide, emptyState, prepare, type EngineState, type PreparedPolicy } from '../src/index.js';

export const T0 = Date.parse('2026-05-17T10:00:00Z');

export function policy(text: string, env: Record<string, string> = {}): PreparedPolicy {
  const r = compile(new Source('governance.fms', text), { env });
  if (!r.ir) throw new Error(r.diagnostics.items.map((d) => d.message).join('\n'));
  return prepare(r.ir);
}

/** A stateful session against one policy: each call applies its delta, as the daemon does. */
export class Session {
  readonly state: EngineState = emptyState();
  now = T0;
  constructor(readonly p: PreparedPolicy) {}

  call(req: Partial<DecisionRequest> & { tool: string }, agent = 'bot', options: { approved?: boolean } = {}): Decision {
    const r = decide(this.p, { agent_id: agent, ...req }, this.state, { nowMs: this.now }, options);
    applyDelta(this.state, r.stateDelta);
    return r.decision;
  }

  /** The agent's completion event (its first agent's gate), with no approvals or tasks open. */
  complete(sessionId?: string): Decision {
    return checkCompletion(
      this.p.ir.agents[0]!,
      { agent_id: 'bot', tool: 'x', action: 'completion_event', ...(sessionId !== undefined ? { session_id: sessionId } : {}) },
      this.state,
      { pending: [], unrun: [], openTasks: [] },
      this.now,
    );
  }

  advance(seconds: number): this {
    this.now += seconds * 1000;
    return this;
  }
}

export function agent(body: string, id = 'bot'): string {
  return `agent "${id}" {\n  default deny\n${body}\n}\n`;
}

/** Effect and code in one string: `PERMIT`, `DENY/POLICY_DENY`. */
export function outcome(d: Decision): string {
  return d.code ? `${d.effect}/${d.code}` : d.effect;
}
