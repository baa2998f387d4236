/**
 * What `faramesh serve` compiles before its first line runs: the bundle's static import graph from
 * main.js through the serve chunk. Start-up time is compile time (the daemon's cold-start target
 * counts it), so the compiler, the YAML parser and RE2 — none of which a daemon without regex
 * conditions needs — must stay out of that graph, behind dynamic imports or a lazy require.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BUNDLE = fileURLToPath(new URL('../../dist/bundle', import.meta.url));

/** The sources (the bundler's `// path` comments) of `entry` and every chunk it imports statically. */
function staticSources(entry: string): Set<string> {
  const seen = new Set<string>();
  const sources = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(join(BUNDLE, file), 'utf8');
    for (const m of text.matchAll(/^\/\/ (?:\.\.\/)*((?:node_modules|packages)\/\S+)$/gm)) sources.add(m[1]!);
    // `import … from "./x.js"` and bare `import "./x.js"`; `import("./x.js")` is dynamic and not followed.
    for (const m of text.matchAll(/^(?:import\s[^;]*?from\s|import\s)"\.\/([^"]+)";/gm)) visit(m[1]!);
  };
  visit(entry);
  return sources;
}

test("serve's start-up graph holds the daemon, not the compiler, the YAML parser or RE2", () => {
  const main = readFileSync(join(BUNDLE, 'main.js'), 'utf8');
  const serveChunk = /import\("\.\/(serve-[A-Z0-9]+\.js)"\)/.exec(main)?.[1];
  assert.ok(serveChunk, 'main.js loads the serve command dynamically');
  const loaded = new Set([...staticSources('main.js'), ...staticSources(serveChunk)]);
  const any = (prefix: string) => [...loaded].filter((s) => s.startsWith(prefix));
  // The check: the graph really is read (the daemon and the engine are in it).
  assert.ok(any('packages/daemon/dist/src/daemon.js').length === 1, [...loaded].join('\n'));
  assert.ok(any('packages/engine/dist/src/').length > 0);
  assert.deepEqual(any('packages/fpl/dist/src/syntax/parser.js'), [], 'the FPL parser');
  assert.deepEqual(any('packages/fpl/dist/src/compile.js'), [], 'the FPL compiler');
  assert.deepEqual(any('node_modules/yaml/'), [], 'the YAML parser');
  assert.deepEqual(any('node_modules/re2js/'), [], 'RE2');
});
