/**
 * A worker thread of `verifyLogParallel`: scans the runs of frames it is sent, each part of a
 * segment the main thread read into shared memory. A clean run goes back as its summary, anything else as the
 * whole scan; the leaf hashes are transferred, not copied. It holds no state between runs.
 */
import { parentPort } from 'node:worker_threads';
import { scanRecords, summarize } from './scan.js';
import type { ScanTask } from './parallel.js';

parentPort!.on('message', (task: ScanTask) => {
  const scan = scanRecords(Buffer.from(task.bytes), task.from, task.stop, task.window);
  const summary = summarize(scan);
  const transfer = [scan.leaves.buffer as ArrayBuffer];
  parentPort!.postMessage(summary ? { id: task.id, summary } : { id: task.id, scan }, transfer);
});
