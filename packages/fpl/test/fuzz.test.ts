import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { compile } from '../src/compile.js';
import { stripPositions } from '../src/ir.js';
import { parse } from '../src/syntax/parser.js';
import { print } from '../src/syntax/printer.js';
import { decodePolicyBytes, Source } from '../src/syntax/source.js';
import { formatDiagnostic } from '../src/syntax/diagnostics.js';

/**
 * Any bytes given as a policy produce diagnostics: never a throw, a hang or a stack trace.
 * FARAMESH_FUZZ_RUNS raises the number of runs for a longer campaign.
 */
const RUNS = Number(process.env.FARAMESH_FUZZ_RUNS ?? 300);
const dir = new URL('../../test/fixtures/docs/', import.meta.url);
const seeds = readdirSync(dir)
  .filter((f) => f.endsWith('.fms'))
  .map((f) => readFileSync(new URL(f, dir), 'utf8'));

function total(text: string, name = 'governance.fms'): void {
  const source = new Source(name, text);
  const r = compile(source, { env: {} });
  for (const d of r.diagnostics.items) {
    const rendered = formatDiagnostic(d);
    assert.ok(rendered.length < 2000, 'diagnostics stay readable');
    assert.ok(d.span.start >= 0 && d.span.start <= text.length, 'spans stay inside the file');
  }
  if (r.diagnostics.errorCount === 0) assert.ok(r.ir && r.policyVersion);
}

/** fmt(x) compiles to the same IR as x whenever x is valid. */
function fmtPreservesMeaning(text: string): void {
  const parsed = parse(new Source('governance.fms', text));
  if (parsed.diagnostics.errorCount > 0) return;
  const before = compile(new Source('governance.fms', text), { env: {} });
  if (!before.ir) return;
  const once = print(parsed.file);
  const after = compile(new Source('governance.fms', once), { env: {} });
  assert.deepEqual(stripPositions(after.ir), stripPositions(before.ir), `fmt changed meaning of:\n${text}\n---\n${once}`);
  assert.equal(print(parse(new Source('governance.fms', once)).file), once, 'idempotent');
}

const edit = fc.record({
  at: fc.nat(),
  del: fc.nat({ max: 8 }),
  insert: fc.oneof(
    fc.string({ maxLength: 8 }),
    fc.constantFrom(
      '{',
      '}',
      '"',
      '(',
      ')',
      '[',
      ']',
      '#',
      '\\',
      '\n',
      'and ',
      'not ',
      ' if ',
      '$',
      '!',
      'deny!',
      '==',
      ':',
      '\u0000',
      '\uFFFD',
    ),
  ),
});

function mutate(text: string, edits: { at: number; del: number; insert: string }[]): string {
  let out = text;
  for (const e of edits) {
    const at = out.length === 0 ? 0 : e.at % (out.length + 1);
    out = out.slice(0, at) + e.insert + out.slice(at + e.del);
  }
  return out;
}

test('random text never crashes the toolchain', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (s) => total(s)),
    { numRuns: RUNS },
  );
});

test('mutated doc examples never crash, and fmt preserves meaning when they stay valid', () => {
  fc.assert(
    fc.property(fc.constantFrom(...seeds), fc.array(edit, { minLength: 1, maxLength: 4 }), (seed, edits) => {
      const text = mutate(seed, edits);
      total(text);
      fmtPreservesMeaning(text);
    }),
    { numRuns: RUNS * 3 },
  );
});

test('fmt preserves the meaning of every doc example', () => {
  for (const seed of seeds) fmtPreservesMeaning(seed);
});

test('random bytes (invalid UTF-8 included) never crash', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const { text } = decodePolicyBytes(bytes);
      total(text);
    }),
    { numRuns: RUNS },
  );
});

test('the YAML and JSON loaders never crash either', () => {
  fc.assert(
    fc.property(fc.constantFrom('governance.fms.yaml', 'governance.fms.json'), fc.string({ unit: 'binary', maxLength: 300 }), (name, s) =>
      total(s, name),
    ),
    { numRuns: RUNS },
  );
});

test('hostile shapes: 1 MiB line, deep nesting, NUL, many errors', () => {
  total(`permit a if x == "${'a'.repeat(1 << 20)}"\n`);
  total(`# ${'x'.repeat(1 << 20)}\n`);
  total('permit ' + 'a'.repeat(1 << 20));
  total('x'.repeat(1 << 20));
  total(`permit a if ${'not '.repeat(100_000)}x\n`);
  total(`permit a if ${'('.repeat(100_000)}`);
  total('{'.repeat(100_000));
  total(`agent "a" {\n  x = ${'['.repeat(100_000)}\n}`);
  total('\u0000'.repeat(10_000));
  total('permit a if\n'.repeat(20_000));
  total('"'.repeat(50_000));
});
