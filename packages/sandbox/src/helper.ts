/** Where the native helper is built (packages/sandbox/bin), by scripts/build-helper.mjs. */
import { fileURLToPath } from 'node:url';

export const HELPER_PATH = fileURLToPath(new URL('../../bin/faramesh-sandbox', import.meta.url));
