import assert from 'node:assert/strict';
import { parse } from '../../src/syntax/parser.js';
import { print } from '../../src/syntax/printer.js';
import { Source } from '../../src/syntax/source.js';

/** `faramesh fmt` on a text that must parse cleanly. */
export function fmt(text: string): string {
  const r = parse(new Source('governance.fms', text));
  assert.deepEqual(
    r.diagnostics.items.map((d) => d.message),
    [],
    'input parses',
  );
  return print(r.file);
}
