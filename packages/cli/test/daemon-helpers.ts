/** Test helpers: stacks in temp directories, the CLI as a child process, raw agent-socket calls. */
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer as createNetServer, type AddressInfo } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** This machine's address on a real interface: requests to it do not come from, or go to, loopback. */
export function externalAddress(): string {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (!a.internal && a.family === 'IPv4') return a.address;
  throw new Error('these tests need a non-loopback IPv4 interface');
}

export const BIN = fileURLToPath(new URL('../../bin/faramesh.js', import.meta.url));

/** The runtime block most test stacks share: the log and the agent socket inside the stack. */
export const RUNTIME = `runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
}
`;

export const POLICY = `${RUNTIME}
agent "bot" {
  default deny
  rules {
    permit ticket/read
    defer  stripe/refund reason "refunds need a human"
    deny!  stripe/payouts reason "platform team only"
  }
  rate_limit "search": 3 per minute
  rules {
    permit search
  }
}
`;

export interface Stack {
  dir: string;
  socket: string;
  cli(...args: string[]): { code: number; stdout: string; stderr: string };
  /** The same without blocking this process (when the test itself serves something the CLI calls). */
  cliAsync(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Run the CLI without waiting (for `serve`). */
  spawnCli(...args: string[]): ReturnType<typeof spawn>;
  govern(params: Record<string, unknown>): Promise<GovernReply>;
  raw(line: string): Promise<string>;
  pid(): number;
  stop(): void;
}

export interface GovernReply {
  effect: 'PERMIT' | 'DENY' | 'DEFER';
  action_id?: string;
  reason_code?: string;
  defer_token?: string;
  structured_denial?: { code: string; human_message: string; rule_ref?: string; resolution: Record<string, unknown> };
  [k: string]: unknown;
}

/** `extraEnv` reaches the CLI, and through apply the daemon it starts. */
export function makeStack(policy = POLICY, extraEnv: Record<string, string> = {}): Stack {
  const dir = mkdtempSync(join(tmpdir(), 'fm-d-'));
  writeFileSync(join(dir, 'governance.fms'), policy);
  const socket = join(dir, '.faramesh', 'runtime', 'agent.sock');
  const env = { ...process.env, NO_COLOR: '1', HOME: dir, ...extraEnv };
  const stack: Stack = {
    dir,
    socket,
    cli: (...args) => {
      // The audit commands' --dir is the WAL; --stack is the stack.
      // A command that should end but does not (a daemon that should have refused to start) fails the test, never hangs it.
      const r = spawnSync(process.execPath, [BIN, ...args, args[0] === 'audit' ? '--stack' : '--dir', dir], {
        encoding: 'utf8',
        env,
        timeout: 120_000,
      });
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
    cliAsync: (...args) =>
      new Promise((resolve) =>
        execFile(
          process.execPath,
          [BIN, ...args, args[0] === 'audit' ? '--stack' : '--dir', dir],
          { encoding: 'utf8', env },
          (e, stdout, stderr) => resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr }),
        ),
      ),
    spawnCli: (...args) =>
      spawn(process.execPath, [BIN, ...args, args[0] === 'audit' ? '--stack' : '--dir', dir], { env, stdio: ['ignore', 'pipe', 'pipe'] }),
    govern: async (params) => {
      const reply = JSON.parse(await stack.raw(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'govern', params }))) as {
        result?: GovernReply;
        error?: unknown;
      };
      if (!reply.result) throw new Error(`no result: ${JSON.stringify(reply)}`);
      return reply.result;
    },
    raw: (line) => request(socket, line),
    pid: () => Number(readFileSync(join(dir, '.faramesh', 'runtime', 'daemon.pid'), 'utf8')),
    stop: () => {
      const pidFile = join(dir, '.faramesh', 'runtime', 'daemon.pid');
      if (!existsSync(pidFile)) return;
      const pid = Number(readFileSync(pidFile, 'utf8'));
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    },
  };
  return stack;
}

/** A fresh stack of `policy`, applied (the daemon READY); the test fails when apply does. */
export function appliedStack(policy: string, extraEnv: Record<string, string> = {}): Stack {
  const s = makeStack(policy, extraEnv);
  const applied = s.cli('apply');
  assert.equal(applied.code, 0, applied.stderr + applied.stdout);
  return s;
}

/** Run `f` on a fresh stack (not applied yet); its daemon is stopped after, however `f` ends. */
export async function withStack(f: (s: Stack) => Promise<void>, policy?: string): Promise<void> {
  const s = makeStack(policy);
  try {
    await f(s);
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
}

/** One request, one reply line, as the SDKs do it. */
export function request(socket: string, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createConnection(socket);
    let data = '';
    s.setEncoding('utf8');
    s.on('connect', () => s.write(`${line}\n`));
    s.on('data', (d: string) => (data += d));
    s.on('error', reject);
    s.on('end', () => resolve(data.trim()));
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wait for a condition, polling. */
export async function until(what: string, f: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export { alive } from '../src/commands/daemon/running.js';

/**
 * A stack whose agent's HTTPS goes through the inspecting proxy on its own port: CONNECT and GETs
 * under /ok permitted (nothing else), an `X-Api-Key` stub credential (`STUB-api`) on each GET, the
 * upstream on 127.0.0.1. `runtime` adds lines to the runtime block (`os_tier = true`).
 */
export const inspectedStack = (id: string, port: number, runtime = '') => `runtime {
  wal_dir          = "./wal"
  socket           = "./.faramesh/runtime/agent.sock"
  https_inspection = true
${runtime}}

agent "${id}" {
  default deny
  enforcement {
    http_proxy_port = ${port}
  }
  rules {
    permit http/connect
    permit http/get if path startsWith "/ok"
  }
  egress {
    allow = ["127.0.0.1"]
  }
  credential "api" {
    provider = "not-declared"
    header   = "X-Api-Key"
    tools    = ["http/get"]
  }
}
`;

/** A Node HTTP server script started on a free port (`PORT`), once its stderr says it is listening. */
export async function startHttpServer(script: string, ...args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const child = spawn(process.execPath, [script, ...args], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  await new Promise<void>((resolve) => child.stderr!.on('data', (d: Buffer) => String(d).includes('listening') && resolve()));
  return { child, port };
}

/** The decision records of a stack's running daemon, oldest first (through `audit tail`). */
export async function decisionRecords(s: Stack, limit = 200): Promise<Record<string, unknown>[]> {
  return (await s.cliAsync('audit', 'tail', '--format', 'json', '--no-follow', '--limit', String(limit))).stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((r) => r.type === 'decision');
}

/** Every byte of a log directory, as text: to show that a secret never reached the log. */
export function walText(dir: string): string {
  return readdirSync(dir)
    .map((f) => readFileSync(join(dir, f)).toString('latin1'))
    .join('');
}

/** A loopback port nothing listens on just now (for policies that must name a port). */
export const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createNetServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });

/** A self-signed P-256 certificate for localhost and 127.0.0.1, made with openssl: `<dir>/<name>.key` and `.crt`. */
export function selfSignedCert(dir: string, name = 'tls'): { key: string; cert: string } {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=localhost'];
  const gen = spawnSync('openssl', [...args, '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', cert], {
    encoding: 'utf8',
  });
  if (gen.status !== 0) throw new Error(`openssl: ${gen.stderr}`);
  return { key, cert };
}

/**
 * A local HTTP endpoint that takes JSON posts (a sink's batches, an alert's payload), hands each body
 * to `onBody` and answers `status`; while `down`, it answers 503 and keeps nothing.
 */
export async function jsonCollector(
  onBody: (body: unknown) => void,
  options: { down?: boolean; status?: number } = {},
): Promise<{ url: string; down: boolean; close(): void }> {
  const server = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (collector.down) return void res.writeHead(503).end('down');
      onBody(JSON.parse(body));
      res.writeHead(options.status ?? 200).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const collector = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    down: options.down ?? false,
    close: () => void server.close(),
  };
  return collector;
}

/** A webhook sink's collector: the records it accepted. */
export async function sinkCollector(down = false) {
  const shipped: Record<string, unknown>[] = [];
  const collector = await jsonCollector((b) => shipped.push(...(b as { records: Record<string, unknown>[] }).records), { down });
  return Object.assign(collector, { shipped });
}

/** Wait until the daemon's start-up probe of each credential provider is answered (none is UNKNOWN). */
export async function providersProbed(s: Stack): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const r = await s.cliAsync('status', '--format', 'json');
    const providers = (JSON.parse(r.stdout) as { providers?: { kind?: string; status: string }[] }).providers ?? [];
    if (!providers.some((p) => p.kind === 'credentials' && p.status === 'UNKNOWN')) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the credential providers were never probed');
}

/**
 * A stack whose log lives on a 3 MiB tmpfs at `<stack>/full` (`wal_dir = "./full/wal"`), for full-disk
 * trials; undefined when mounting needs a root this run lacks. `unmount` after the stack stops.
 */
export function stackOnSmallDisk(policy: string):
  | {
      s: Stack;
      mount: string;
      unmount: () => void;
      /** Take the disk's free room (the segment's preallocated tail still takes records). */
      fill: () => void;
      /** Fill the disk, then make calls until one is refused for want of room: whether one was. */
      fillLog: () => Promise<boolean>;
    }
  | undefined {
  const s = makeStack(policy.replace('wal_dir = "./wal"', 'wal_dir = "./full/wal"'));
  const mount = join(s.dir, 'full');
  mkdirSync(mount);
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mount]).status !== 0) {
    s.stop();
    return undefined;
  }
  const fill = () => {
    try {
      writeFileSync(join(mount, 'filler'), Buffer.alloc(3 << 20));
    } catch {
      // ENOSPC: full, as intended.
    }
  };
  const fillLog = async () => {
    fill();
    const read = { agent_id: 'bot', tool: 'ticket', operation: 'read', args: {} };
    for (let i = 0; i < 20_000; i++) if ((await s.govern(read)).reason_code === 'AUDIT_UNAVAILABLE') return true;
    return false;
  };
  return { s, mount, unmount: () => void spawnSync('umount', [mount]), fill, fillLog };
}

/** The `mcp_server "everything"` block: the official reference server (@modelcontextprotocol/server-everything) over stdio. */
export function everythingStdio(): string {
  const everything = createRequire(import.meta.url).resolve('@modelcontextprotocol/server-everything/dist/index.js');
  return `mcp_server "everything" {
  command = ${JSON.stringify(process.execPath)}
  args    = [${JSON.stringify(everything)}, "stdio"]
}`;
}
