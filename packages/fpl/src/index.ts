export * from './syntax/ast.js';
export { Source, decodePolicyBytes, type Position, type Span } from './syntax/source.js';
export {
  Diagnostics,
  formatDiagnostic,
  diagnosticToJson,
  type Diagnostic,
  type DiagnosticJson,
  type Severity,
} from './syntax/diagnostics.js';
export { parse, EFFECT_WORDS } from './syntax/parser.js';
export { print, quote } from './syntax/printer.js';
export { isRuleClause } from './syntax/parser.js';
export { compile, parseAny, type CompileOptions, type CompileResult } from './compile.js';
export { policyVersion } from './version.js';
export { checkEmptyPolicy } from './analysis/empty-policy.js';
export { loadStack, StackError, STACK_FILES, type Stack } from './stack.js';
export { matchTool, covers, patternProblem } from './patterns.js';
export { regexProblem } from './lower/expr.js';
export { parseDuration } from './lower/values.js';
export * from './ir.js';
export * from './schema.js';
export { parseYamlPolicy, parseJsonPolicy } from './forms/index.js';
export * from './imports/index.js';
