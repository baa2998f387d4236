/**
 * A worker thread of `verifyLogParallel`: scans the runs of frames it is sent, each part of a
 * piece of a segment the main thread read into shared memory. A clean run goes back as its summary, anything else as the
 * whole scan; the leaf hashes are transferred, not copied. It holds no state between runs.
 */
import { parentPort } from 'node:worker_threads';
import { scanTask } from './scan.js';
import type { ScanTask } from './parallel.js';

parentPort!.on('message', (task: ScanTask) => {
  const { result, transfer } = scanTask(task);
  parentPort!.postMessage({ id: task.id, ...result }, transfer);
});
