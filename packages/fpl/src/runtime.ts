/**
 * What enforcing a compiled policy needs from the language, without the parser, the checker or the
 * YAML forms: the IR types and the few pure helpers over them. The daemon starts on this entry
 * point alone, which keeps its start-up short.
 */
export * from './ir.js';
export { matchTool, covers, patternProblem } from './patterns.js';
export { parseDuration, MAX_DURATION_S } from './lower/values.js';
export { policyVersion } from './version.js';
export { fetchableKeyUrl } from './urls.js';
export { unmapped } from './lower/hosts.js';
