export { decide, type Clock, type DecideOptions, type DecideResult } from './decide.js';
export { prepare, type PreparedPolicy } from './prepare.js';
export { applyDelta, emptyState, spawnEnded, type EngineState, type StateDelta, type DeltaOp } from './state.js';
export { Trace } from './trace.js';
export { checkToolId } from './tool-id.js';
export { normaliseHost } from './stages/egress.js';
export { REDACTED, redact } from './stages/redact.js';
export { priceUsage } from './stages/pricing.js';
export { checkCompletion, type CompletionFacts } from './stages/completion.js';
