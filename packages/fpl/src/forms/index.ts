/**
 * `governance.fms.yaml` and `governance.fms.json` → the same syntax tree (`FileNode`) the FPL parser
 * builds for the equivalent `governance.fms`. Spans are offsets into the YAML/JSON text, so
 * diagnostics from every later stage point at the right line of the file that was written.
 * JSON is read with the YAML reader too (for positions) after `JSON.parse` has confirmed it is JSON.
 *
 * Mapping (keys are processed in the order written; `a|b` are synonyms; "list" also accepts a lone
 * mapping where noted; labelled things accept a list of mappings carrying the label or a mapping
 * from label to fields):
 *
 *   import|imports: "p" | {path|ref|source: "p", as|alias: a} | [...]   → import "p" [as a]
 *   runtime: {k: v}                                    → runtime { k = v }
 *   provider|providers, identity|identities (label key `name`)
 *                                                      → provider "name" { k = v }
 *   mcp_server|mcp_servers (label key `name`): {command, args, env: {K: v}, cwd} or {url, headers, transport}
 *                                                      → mcp_server "name" { k = v }
 *   trust: {keys: [{registry|id: "r", key: "ed25519:…"}]}
 *                                                      → trust { key "r" ed25519:… }
 *   rules: [rule]                                      → flat rules at file level
 *   agent|agents (label key `id`)                      → agent "id" { … } with, per key:
 *     default: deny                                    → default deny            (word)
 *     model|framework|version: v                       → model = v
 *     vars: {k: v}                                     → var k = v
 *     rules: [rule]                                    → rules { … }
 *     rate_limits: [{pattern, limit, window}] (list)   → rate_limit "pattern": limit per window
 *     redactions: [{tool, paths|args}] (list)          → redact tool args: [...]
 *     budgets (label key `id`): {max, daily, max_calls, warn_at, on_exceed}
 *                                                      → budget id { max $500 … on_exceed deny }
 *     egress|model_policy|session|spawn|enforcement|ambient: {k: v}
 *                                                      → egress { k = v }
 *     completion_gate: {require: [s]} | [s]            → completion_gate { require "s" … }
 *     alert|alerts, delegate|delegates: list of {k: v} → one alert { k = v } / delegate { k = v } each
 *     phases (label `name|id`): {k: v, rules: [rule]}  → phase "name" { k = v  rules { … } }
 *     selectors, credentials (label `id|name`): {k: v} → selector "id" { k = v }
 *     use: [alias | {alias, params: {k: v}}] (list)    → use alias { k = v }
 *
 *   rule: {effect, tool, condition|when|if, host, method, path, reason, notify, strict}
 *     effect: permit|allow|approve → permit, defer, deny|block|reject → deny, `deny!` → strict deny
 *     (as does `strict: true`); the condition is an FPL expression string parsed by the FPL
 *     expression parser.
 *
 * Literal kinds, chosen to be what the FPL text would produce:
 *   - strings → String, except `env("X")` (or a mapping `{env: "X"}`) → env call, and `"$500"` → Money;
 *   - numbers → Number keeping the written spelling; budget `max`/`daily` numbers → Money;
 *   - booleans → Bool, null → Nil, lists → List, other mappings → Map of `k = v`;
 *   - `default`, `on_exceed` and a rate limit's `window` → Word (FPL writes them bare);
 *   - rule `host`/`method`/`path`, budget labels and `use` aliases → Word when the text is a single
 *     FPL word (so `host: prod_host` can name a var, as `host prod_host` does), else String;
 *   - tool patterns are `quoted` only when FPL would need quotes for them.
 * Aliases/anchors are refused (they would give one node two places in the file).
 */
import type { FileNode } from '../syntax/ast.js';
import { Diagnostics } from '../syntax/diagnostics.js';
import type { Source } from '../syntax/source.js';
import type { FormContext } from './context.js';
import { loadDocument } from './document.js';
import { toItems } from './file.js';

export interface FormParseResult {
  file: FileNode;
  diagnostics: Diagnostics;
}

export function parseYamlPolicy(source: Source, diagnostics = new Diagnostics()): FormParseResult {
  return parseForm(source, diagnostics, false);
}

export function parseJsonPolicy(source: Source, diagnostics = new Diagnostics()): FormParseResult {
  return parseForm(source, diagnostics, true);
}

function parseForm(source: Source, diagnostics: Diagnostics, json: boolean): FormParseResult {
  const ctx: FormContext = { source, diagnostics };
  const loaded = loadDocument(ctx, json);
  const items = loaded ? toItems(ctx, loaded.root) : [];
  return { file: { kind: 'File', source, items, comments: [], span: { start: 0, end: source.text.length } }, diagnostics };
}
