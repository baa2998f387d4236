/** AnswerStreams on its own: which ended streams leave a request unanswered, and when. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AnswerStreams } from '../src/mcp/answer-streams.js';

const post = (id: number) => ({ method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: {} }) });
const sse = (...chunks: string[]) =>
  new Response(
    new ReadableStream<Uint8Array>({
      start(c) {
        for (const chunk of chunks) c.enqueue(new TextEncoder().encode(chunk));
        c.close();
      },
    }),
    { status: 200, headers: { 'content-type': 'text/event-stream' } },
  );

/** Read a watched body to its end, then let the settle timer run. */
async function drain(res: Response): Promise<void> {
  await res.text();
  await new Promise((r) => setTimeout(r, 120));
}

test('a stream that ends without an event id fails its request; one answered, forgotten or resumable does not', async () => {
  const failed: unknown[] = [];
  const a = new AnswerStreams((id) => failed.push(id));
  for (const id of [1, 2, 3, 4, 5]) a.sent(id);
  await drain(a.watch(post(1), sse('event: message\ndata: {}\n\n'), 's'));
  a.answered(2);
  await drain(a.watch(post(2), sse('data: {}\n\n'), 's'));
  a.answered(3); // the client cancelled it: forgotten
  await drain(a.watch(post(3), sse(''), 's'));
  // An event id split across two chunks still makes the stream resumable; an empty one does not.
  await drain(a.watch(post(4), sse('data: {}\n\ni', 'd: ev-9\n\n'), 's'));
  await drain(a.watch(post(5), sse('id: \ndata: {}\n\n'), 's'));
  assert.deepEqual(failed, [1, 5]);
  a.gaveUp('gone');
  assert.deepEqual(failed, [1, 5, 4], 'the resumable one fails once the transport gives up');
});

test('a resuming GET refused with 405 gives up what was resuming; other responses pass untouched', async () => {
  const failed: unknown[] = [];
  const a = new AnswerStreams((id) => failed.push(id));
  a.sent(7);
  await drain(a.watch(post(7), sse('id: e1\n\n'), 's'));
  const json = new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } });
  assert.equal(a.watch(post(8), json, 's'), json);
  assert.deepEqual(failed, []);
  a.watch({ method: 'GET', headers: { 'last-event-id': 'e1' } }, new Response(null, { status: 405 }), 's');
  assert.deepEqual(failed, [7]);
});
