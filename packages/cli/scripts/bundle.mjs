// Bundles the compiled CLI (dist/src) into dist/bundle, which bin/faramesh.js runs. Node resolves
// and links each ES module file on its own: unbundled, `faramesh serve` loaded about 270 files
// before its first line ran, half of its start-up. Each command stays its own chunk, loaded when it
// runs, and so do the daemon's optional parts (the MCP proxy, nodemailer, the YAML parser).
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/bundle`;

// Left to node_modules:
// - cloud clients and their helpers, imported only by the providers that use them (large, and
//   some read files beside their own code);
// - our packages that locate files beside their own code: the sandbox helper's binary, and the
//   SDK's autoload hooks (registered by URL).
const external = [
  '@aws-sdk/*',
  '@azure/*',
  '@google-cloud/*',
  '@grpc/*',
  '@peculiar/*',
  'protobufjs',
  'reflect-metadata',
  '@faramesh/sandbox',
  '@faramesh/sdk',
  '@faramesh/sdk/*',
];

rmSync(outdir, { recursive: true, force: true });
await build({
  // `audit verify` starts worker threads from this file, found beside the chunk that starts them.
  entryPoints: { main: `${root}dist/src/main.js`, 'verify-worker': `${root}../audit/dist/src/verify/verify-worker.js` },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external,
  sourcemap: 'linked',
  logLevel: 'warning',
  // Bundled CommonJS packages call require() for Node's own modules; ES modules have none.
  banner: { js: "import { createRequire as __faramesh_require } from 'node:module'; const require = __faramesh_require(import.meta.url);" },
});
