// npm run bench: every benchmark, one after the other (each prints its own table, or JSON with --json).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const merged = {};
for (const script of ['fpl.js', 'engine.js', 'audit.js', 'daemon.js', 'sdk.js', 'mcp.js', 'http-proxy.js', 'sandbox.js']) {
  const r = spawnSync(process.execPath, [fileURLToPath(new URL(script, import.meta.url)), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) process.exit(r.status ?? 1);
  if (args.includes('--json')) Object.assign(merged, JSON.parse(r.stdout));
  else process.stdout.write(r.stdout + '\n');
}
if (args.includes('--json')) console.log(JSON.stringify(merged, null, 2));
