/**
 * The elastic-sink against a fake Elasticsearch `_bulk` that maps fields as a real index does: each
 * field by the first value it sees, and a document whose value clashes with that mapping refused
 * (400). The agent chooses its arguments, so two tools whose `id` differ in kind must not stop the
 * stream for good: the record lands, with its arguments as text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deliver } from '../src/outbound/deliver.js';
import { sinkFormat } from '../src/outbound/sink-formats.js';

type Kind = 'object' | 'long' | 'text' | 'boolean';
const kindOf = (v: unknown): Kind | undefined =>
  v === null ? undefined : typeof v === 'object' ? 'object' : typeof v === 'number' ? 'long' : typeof v === 'boolean' ? 'boolean' : 'text';

/** A field's value against the index's mapping: the clash, if any (dynamic mapping adds what is new). */
function clash(mapping: Map<string, Kind>, doc: Record<string, unknown>, prefix = ''): string | undefined {
  for (const [k, v] of Object.entries(doc)) {
    const path = `${prefix}${k}`;
    const kind = kindOf(Array.isArray(v) ? v[0] : v);
    if (!kind) continue;
    const mapped = mapping.get(path);
    if (mapped && mapped !== kind && !(mapped === 'text' && kind === 'long')) return `failed to parse field [${path}] of type [${mapped}]`;
    const inner = kind === 'object' && !Array.isArray(v) ? clash(mapping, v as Record<string, unknown>, `${path}.`) : undefined;
    if (inner) return inner;
  }
  return undefined;
}
function map(mapping: Map<string, Kind>, doc: Record<string, unknown>, prefix = ''): void {
  for (const [k, v] of Object.entries(doc)) {
    const kind = kindOf(Array.isArray(v) ? v[0] : v);
    if (!kind) continue;
    if (!mapping.has(`${prefix}${k}`)) mapping.set(`${prefix}${k}`, kind);
    if (kind === 'object' && !Array.isArray(v)) map(mapping, v as Record<string, unknown>, `${prefix}${k}.`);
  }
}

test('records whose arguments clash with the index mapping land, not stall the sink', async () => {
  const mapping = new Map<string, Kind>();
  const docs = new Map<string, Record<string, unknown>>();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const lines = body.split('\n').filter(Boolean);
      const items: unknown[] = [];
      for (let i = 0; i < lines.length; i += 2) {
        const { create } = JSON.parse(lines[i]!) as { create: { _id: string } };
        const doc = JSON.parse(lines[i + 1]!) as Record<string, unknown>;
        const why = clash(mapping, doc);
        if (docs.has(create._id))
          items.push({ create: { _id: create._id, status: 409, error: { type: 'version_conflict_engine_exception' } } });
        else if (why) items.push({ create: { _id: create._id, status: 400, error: { type: 'document_parsing_exception', reason: why } } });
        else {
          map(mapping, doc);
          docs.set(create._id, doc);
          items.push({ create: { _id: create._id, status: 201, result: 'created' } });
        }
      }
      const errors = items.some((i) => (i as { create: { status: number } }).create.status >= 300);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ took: 1, errors, items }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const es = sinkFormat(
      {
        name: 'es',
        type: 'elastic-sink',
        ref: 'provider.es',
        fields: { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` },
      },
      {},
    );
    const time = new Date().toISOString();
    const record = (id: string, seq: number, args: Record<string, unknown>) => ({ id, seq, type: 'decision', time, tool: 't', args });
    assert.equal(await deliver(es, [record('a', 1, { id: 42, query: 'refunds' })]), undefined);
    // Another tool's `id` is a string, and its `query` an object: both clash with what the index mapped.
    const clashing = [record('b', 2, { id: 'usr_7' }), record('c', 3, { id: 43 }), record('d', 4, { query: { term: 'x' } })];
    assert.equal(await deliver(es, clashing), undefined, 'the batch must land, or it is refused for good');
    assert.deepEqual([...docs.keys()], ['a', 'c', 'b', 'd']);
    assert.deepEqual(docs.get('c')!.args, { id: 43 }, 'a record that fits the mapping keeps its arguments as they are');
    assert.equal(docs.get('b')!.args_text, '{"id":"usr_7"}');
    assert.equal(docs.get('b')!.args, undefined);
    assert.equal(docs.get('d')!.args_text, '{"query":{"term":"x"}}');
    // A resend of what landed counts as delivered.
    assert.equal(await deliver(es, clashing), undefined);
  } finally {
    server.close();
  }
});
