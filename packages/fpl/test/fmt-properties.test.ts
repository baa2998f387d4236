import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compile } from '../src/compile.js';
import { stripPositions } from '../src/ir.js';
import type { BodyItem, TopItem } from '../src/syntax/ast.js';
import { parse } from '../src/syntax/parser.js';
import { print } from '../src/syntax/printer.js';
import { Source } from '../src/syntax/source.js';

/**
 * fmt over generated policies: every accepted spelling (synonyms, escapes, odd numbers, clauses in
 * any order and on continuation lines, comments anywhere a line may end). Whenever the input parses,
 * fmt's output parses, is a fixed point, keeps every comment and compiles to the same IR.
 * FARAMESH_FUZZ_RUNS raises the number of runs for a longer campaign, on random seeds; without it
 * the runs are fixed (CI sees the same policies every time; fast-check stalls generating some
 * seeds' larger cases, past about 2,000 runs).
 */
const RUNS = Number(process.env.FARAMESH_FUZZ_RUNS ?? 300);
const SEED = process.env.FARAMESH_FUZZ_RUNS ? {} : { seed: 20261125 };
const env = { LIMIT: '5', X: 'x' };

const ident = fc.constantFrom('amount', 'args.to', 'café', 'principal.groups', 'time.hour', 'headers.x-key', 'tags', 'args.日本', 'cost');
const stringLit = fc
  .tuple(
    fc.array(
      fc.constantFrom(
        'a',
        ' ',
        '\\n',
        '\\t',
        '\\\\',
        '\\"',
        '\\/',
        '\\u00e9',
        '\\u0000',
        '\\u202e',
        '\\ud83d\\ude00',
        '\\ud83d',
        '日',
        '#',
        '}',
        '\t',
      ),
      {
        maxLength: 5,
      },
    ),
    fc.boolean(),
  )
  .map(([chars, single]) => (single ? `'${chars.join('').replace(/\\"/g, '"')}'` : `"${chars.join('')}"`));
const atom = fc.oneof(
  stringLit,
  ident,
  fc.constantFrom(
    '0',
    '-0',
    '1e3',
    '1E+3',
    '2e-4',
    '0.80',
    '-5',
    '9007199254740991',
    '$500',
    '$10.00',
    '$1e3',
    'true',
    'nil',
    'null',
    'env("LIMIT")',
  ),
);
const comment = fc.constantFrom('#', '# why', '## "quoted" { }', '# é日');
/** Where a condition may break: a space, or a comment and a new line. */
const gap = fc.oneof(
  { weight: 3, arbitrary: fc.constant(' ') },
  comment.map((c) => ` ${c}\n      `),
);
const list = fc
  .tuple(fc.array(fc.oneof(stringLit, ident, fc.constantFrom('1', '-2.5')), { maxLength: 3 }), gap)
  .map(([xs, g]) => `[${xs.join(`,${g}`)}]`);
const comparison = fc.oneof(
  fc
    .tuple(ident, fc.constantFrom('==', '!=', '<', '>=', 'contains', 'startsWith', 'endsWith'), atom)
    .map(([a, op, b]) => `${a} ${op} ${b}`),
  fc.tuple(ident, fc.constantFrom(' in ', ' not in '), list).map(([a, op, l]) => `${a}${op}${l}`),
  fc.tuple(ident, fc.constantFrom('starts_with', 'ends_with', 'contains', 'matches'), stringLit).map(([a, m, s]) => `${a}.${m}(${s})`),
  ident.map((a) => `${a} matches "^a\\\\d+$"`),
  ident,
);
const { condition } = fc.letrec<{ condition: string }>((tie) => ({
  condition: fc.oneof(
    { depthSize: 'small', maxDepth: 4 },
    comparison,
    fc
      .tuple(tie('condition'), gap, fc.constantFrom('and', 'or', '&&', '||'), gap, tie('condition'), fc.boolean())
      .map(([a, g1, op, g2, b, group]) => (group ? `${a}${g1}${op}${g2}(${b})` : `${a}${g1}${op}${g2}${b}`)),
    fc.tuple(fc.constantFrom('not ', '!'), tie('condition'), gap).map(([n, e, g]) => `${n}(${e}${g})`),
    fc.tuple(fc.constantFrom('not ', '! '), comparison).map(([n, e]) => `${n}${e}`),
    // `x not in` after a parenthesised operand: fmt spells it `not (…) in`.
    fc.tuple(tie('condition'), list).map(([e, l]) => `(${e}) not in ${l}`),
  ),
}));
const lineEnd = fc.option(
  comment.map((c) => ` ${c}`),
  { nil: '' },
);
const clause = fc.oneof(
  fc.tuple(fc.constantFrom('if', 'when', 'if:'), condition).map(([k, e]) => ['if', `${k} ${e}`] as const),
  fc
    .tuple(fc.constantFrom('host', 'method', 'path'), fc.oneof(stringLit, fc.constantFrom('api.example.com', 'GET', '/v1/*')))
    .map(([k, v]) => [k, `${k} ${v}`] as const),
  fc
    .tuple(fc.constantFrom('reason', 'reason:', 'notify', 'notify:'), stringLit)
    .map(([k, v]) => [k.replace(':', ''), `${k} ${v}`] as const),
);
/** A rule whose clauses may continue on the next lines, each such line ending with a comment. */
const rule = fc
  .tuple(
    fc.constantFrom('permit', 'allow', 'approve', 'defer', 'deny', 'block', 'reject', 'deny!', 'deny !'),
    fc.constantFrom('stripe/refund', 'shell/*', '**', 'fs/*_search', '"path"', '"a b"', 'café/日本', '123'),
    fc.array(fc.tuple(fc.constantFrom(' ', '\n  ', ' \\\n  ', '\n  # own line\n  '), clause, lineEnd), { maxLength: 3 }),
    lineEnd,
  )
  .map(([effect, tool, clauses, end]) => {
    const seen = new Set<string>();
    let text = `${effect} ${tool}`;
    for (const [space, [kind, body], comment] of clauses) {
      if (seen.has(kind)) continue;
      seen.add(kind);
      text += `${space}${body}${comment && !space.includes('\\') ? `${comment}\n ` : ''}`;
    }
    return text.trimEnd() + end;
  });
/** Between two pieces of a value or a statement: a space, a trailing comment, or one on its own line. */
const brk = fc.oneof(
  { weight: 2, arbitrary: fc.constant(' ') },
  comment.map((c) => ` ${c}\n  `),
  comment.map((c) => `\n  ${c}\n  `),
);
const elements = (item: fc.Arbitrary<string>, sep: (b: string) => string) =>
  fc
    .tuple(brk, fc.array(fc.tuple(item, brk), { maxLength: 3 }))
    .map(([open, xs]) => `${open}${xs.map(([x, b], i) => `${x}${i < xs.length - 1 ? sep(b) : b}`).join('')}`);
const strings = elements(fc.constantFrom('"a"', '"#"', "'x y'"), (b) => `,${b}`).map((e) => `[${e}]`);
const valueList = elements(fc.constantFrom('"a"', '1', 'word', '$2'), (b) => `,${b}`).map((e) => `[${e}]`);
/** Maps and `use` parameters: nested values, comments anywhere between their pieces. */
const entries = (key: fc.Arbitrary<string>, value: fc.Arbitrary<string>) =>
  elements(
    fc.tuple(key, fc.constantFrom(' = ', ': ', ' =\n  '), value).map(([k, eq, v]) => `${k}${eq}${v}`),
    (b) => (b === ' ' ? ', ' : b),
  );
const envMap = entries(fc.constantFrom('A', 'B_2', '"C"'), fc.constantFrom('"v"', 'env("X")')).map((e) => `{${e}}`);
const statement = fc.oneof(
  fc.tuple(brk, brk).map(([a, b]) => `rate_limit "x/*":${a}5${b}per minute`),
  brk.map((a) => `cost "x/*":${a}$1`),
  fc.tuple(brk, strings).map(([a, l]) => `redact x/* args:${a}${l}`),
  fc.tuple(brk, valueList).map(([a, v]) => `var w =${a}${v}`),
  // (an error, no import is aliased p: IR is not compared)
  { weight: 1, arbitrary: entries(fc.constantFrom('a', '"b c"', 'c-d'), fc.oneof(fc.constant('7'), valueList)).map((e) => `use p {${e}}`) },
);
const server = fc.tuple(strings, envMap).map(([args, env]) => `mcp_server "m" {\n  command = "npx"\n  args = ${args}\n  env = ${env}\n}`);
const field = fc
  .tuple(
    fc.constantFrom(
      'mode = "enforce"',
      'mode: audit',
      'wal_dir = "./w\\u00e9"',
      'backend: sqlite',
      'approval_ttl = 24h',
      'mcp_filter_tools = true',
      'cold_start_deny_window = "1h30m"',
    ),
    lineEnd,
  )
  .map(([text, end]) => `${text}${end}`);
const indent = (lines: string[], by: string): string =>
  lines
    .flatMap((l) => l.split('\n'))
    .map((l) => by + l)
    .join('\n');
const agentItem = fc.oneof(
  rule,
  statement,
  comment,
  fc.constant(''),
  fc.constantFrom('default deny', 'rate_limit "x/*": 5 per minute', 'var limit = 500', 'budget daily { max $500 on_exceed defer } # b'),
);
const agentBlock = fc
  .tuple(fc.constantFrom('"a"', 'infra-bot', '"ünï"'), fc.array(agentItem, { maxLength: 5 }), lineEnd, fc.boolean())
  .map(([id, items, end, wrap]) => {
    const body = wrap ? [`rules {`, indent(items, '  '), '}'] : items;
    return `agent ${id} {${end}\n${indent(body, '  ')}\n}`;
  });
const policy = fc
  .array(
    fc.oneof(
      rule,
      comment,
      fc.constant(''),
      agentBlock,
      server,
      fc.array(fc.oneof(field, comment), { maxLength: 3 }).map((fields) => `runtime {\n${indent(fields, '  ')}\n}`),
      fc.constant('trust {\n  key "r" ed25519:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= # k\n}'),
    ),
    { maxLength: 5 },
  )
  .map((items) => `${items.join('\n')}\n`);

const comments = (text: string): string[] =>
  parse(new Source('governance.fms', text))
    .file.comments.map((c) => c.text.trimEnd())
    .sort();
/**
 * Item by item (blocks aside), the comments written inside it or after it on its last line: in
 * their order, but for a rule's, whose clauses print in canonical order.
 */
const itemComments = (text: string): string[][] => {
  const { file } = parse(new Source('governance.fms', text));
  const found: (TopItem | BodyItem)[] = [];
  const walk = (items: readonly (TopItem | BodyItem)[]): void => {
    for (const item of items)
      if (item.kind === 'Block') walk(item.body);
      else found.push(item);
  };
  walk(file.items);
  return found.map((r) => {
    const inside = file.comments
      .filter(
        (c) =>
          (c.start >= r.span.start && c.start < r.span.end) ||
          // (right after it: not after the `}` of the block it ends)
          (c.trailing && c.start >= r.span.end && !file.source.text.slice(r.span.end, c.start).trim()),
      )
      .map((c) => c.text.trimEnd());
    return [r.kind, ...(r.kind === 'Rule' ? inside.sort() : inside)];
  });
};
const compiled = (text: string) => compile(new Source('governance.fms', text), { env });

test('fmt keeps the meaning and the comments of generated policies, and is a fixed point', () => {
  let parsed = 0;
  fc.assert(
    fc.property(policy, (text) => {
      const before = parse(new Source('governance.fms', text));
      if (before.diagnostics.errorCount > 0) return;
      parsed++;
      const once = print(before.file);
      const again = parse(new Source('governance.fms', once));
      assert.deepEqual(
        again.diagnostics.items.map((d) => d.message),
        [],
        `fmt output parses:\n${once}`,
      );
      assert.equal(print(again.file), once, 'idempotent');
      assert.deepEqual(comments(once), comments(text), 'every comment kept');
      assert.deepEqual(itemComments(once), itemComments(text), `a comment left its item:\n${text}\n---\n${once}`);
      const [a, b] = [compiled(text), compiled(once)];
      const codes = (r: typeof a) => r.diagnostics.items.filter((d) => d.severity === 'error').map((d) => d.code);
      assert.deepEqual(codes(b), codes(a));
      if (a.ir) assert.deepEqual(stripPositions(b.ir), stripPositions(a.ir), `fmt changed the meaning of:\n${text}\n---\n${once}`);
    }),
    { numRuns: RUNS, ...SEED },
  );
  // The generator is meant to produce valid policies: a change that breaks it must not go unnoticed.
  assert.ok(parsed > RUNS * 0.8, `only ${parsed} of ${RUNS} generated policies parsed`);
});

test('compile gives the same policy_version for CRLF, a BOM, tabs and trailing blanks', () => {
  fc.assert(
    fc.property(policy, (text) => {
      const base = compiled(text).policyVersion;
      if (!base) return;
      for (const variant of [
        text.replace(/\n/g, '\r\n'),
        `\uFEFF${text}`,
        text.replace(/^ +/gm, (m) => '\t'.repeat(m.length)),
        // (not after a backslash that continues the line)
        text.replace(/(?<!\\)\n/g, ' \t\n'),
      ])
        assert.equal(compiled(variant).policyVersion, base);
    }),
    { numRuns: RUNS / 3, ...SEED },
  );
});
