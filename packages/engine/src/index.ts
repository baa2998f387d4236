export { decide, type Clock, type DecideOptions, type DecideResult } from './decide.js';
export { prepare, type PreparedPolicy } from './prepare.js';
export {
  applyDelta,
  emptyState,
  giveBack,
  pruneState,
  SESSION_RETENTION_MS,
  MAX_SESSIONS_PER_AGENT,
  dropSessions,
  isDeltaOp,
  valuesOf,
  spawnEnded,
  liveSpawns,
  selectorKey,
  type EngineState,
  type StateDelta,
  type DeltaOp,
} from './state.js';
export { Trace } from './trace.js';
export { checkToolId } from './tool-id.js';
export { hostMatches, normaliseHost } from './stages/egress.js';
export { addressClass } from './stages/ssrf.js';
export { REDACTED, redact } from './stages/redact.js';
export { priceUsage } from './stages/pricing.js';
export { checkCompletion, type CompletionFacts } from './stages/completion.js';
export { budgetUsage, callCost, type BudgetUsage } from './stages/budget.js';
export { delegateTarget } from './stages/spawn.js';
export { MAX_DELEGATION_HOPS } from './decide.js';
export { mayPermit, namedByRule } from './stages/visibility.js';
export { activePhase, phaseSchedule, type PhaseStanding } from './stages/phases.js';
export { laterStageKey, ruleOutcome, ruleStageKey, type RecordedCall, type RuleOutcome } from './replay.js';
