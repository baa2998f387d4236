/**
 * The daemon: it loads the signed compiled policy (never governance.fms), opens the audit log,
 * rebuilds its state from the log, and serves agents once READY. Policy changes only through the
 * operator channel (`apply`), as a whole swap recorded in the log; SIGHUP reloads nothing.
 */
import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  AuditLog,
  encodeVerifierKey,
  keysDir,
  loadStackSigner,
  originFor,
  pinKey,
  publicKeyFile,
  readBase,
  readVerifierKeys,
  writeDurable,
  type Ed25519Signer,
  type RecordInput,
} from '@faramesh/audit';
import { budgetUsage, dropSessions, liveSpawns, mayPermit, phaseSchedule, prepare, pruneState, type EngineState } from '@faramesh/engine';
import { canonicalJson, type DecisionRequest, type HttpFields } from '@faramesh/protocol';
import { checkpointSigner, describeSigner, signingSource, type ActiveSigner } from './signing/checkpoint-signer.js';
import type { Server as NetServer } from 'node:net';
import type { PolicyIR } from '@faramesh/fpl';
import { ApprovalBook, ApprovalError, type Approval } from './core/approvals.js';
import { DecisionService, refusal, SpawnRefusal, type PolicyInUse } from './core/decisions.js';
import { restoreState, StateSnapshots } from './core/state-snapshot.js';
import { RESUME_EVERY_MS, resumeLog } from './core/log-resume.js';
import { MAX_TIMER_MS } from './core/timers.js';
import { daemonClock, daemonNow } from './core/clock.js';
import { compactLog, RETENTION_EVERY_MS } from './core/log-retention.js';
import { SelectorFetcher } from './core/selectors.js';
import { RecordFeed } from './core/record-feed.js';
import { PrincipalGate } from './core/principals.js';
import { DelegationTokens } from './core/delegation.js';
import { Alerts, notifyTargets } from './outbound/alerts.js';
import { checkSinks, Sinks } from './outbound/sinks.js';
import { Lifecycle } from './lifecycle.js';
import { CompiledStateError, loadCompiled, versionFiles, type CompiledPolicy } from './stack/compiled.js';
import { agentSocketMirror, proxyCaFiles, proxyMirror, stackPaths, type StackPaths } from './stack/paths.js';
import { openMirror } from './wire/unix-mirror.js';
import { StateSeal } from './stack/sealed-state.js';
import { Supervisor } from './supervisor/supervisor.js';
import { commandArgv } from './supervisor/command.js';
import { supervisedEnv } from './supervisor/environment.js';

/** How long supervised agents get to stop on DRAINING before they are killed. */
const SUPERVISOR_STOP_GRACE_MS = 10_000;
import { runtimeSettings, type RuntimeSettings } from './stack/settings.js';
import { fixedAtStartChanges } from './stack/fixed-at-start.js';
import {
  keepOpenAck,
  NOT_READY,
  STOPPING,
  parseAgentMessage,
  parseGovernParams,
  rpcError,
  rpcResult,
  RPC,
  SpawnEndedParams,
  toolIdOf,
  type GovernParams,
  type GovernResult,
} from './wire/agent-protocol.js';
import { HttpApi } from './wire/http-api.js';
import { LineServer } from './wire/line-server.js';
import type { McpProxy } from './mcp/proxy.js';
import { TaskBook } from './mcp/tasks.js';
import { isMcpSessionId } from './mcp/session-id.js';
import { CredentialBroker } from './credentials/broker.js';
import { withheldFromServers } from './credentials/ambient.js';
import type { Carrier } from './credentials/carrier.js';
import { mcpServers, proxyOnlyCredentials, proxyPorts } from './stack/proxies.js';
import { ForwardProxy } from './http-proxy/forward.js';
import { ReverseProxy, reverseConfig } from './http-proxy/reverse.js';
import { unnamed } from './http-proxy/routes.js';
import { identitySource, WorkloadIdentity } from './core/workload-identity.js';
import { httpsInspection } from './http-proxy/inspection.js';
import { LatencyHistogram, metricsText } from './wire/metrics.js';
import { TokenBook, TokenError } from './core/tokens.js';
import { OperatorRefusal, OperatorRequest, operatorError, operatorResult } from './wire/operator-protocol.js';

/** How often a credential provider last seen failing is probed again. */
const REPROBE_EVERY_MS = 30_000;
/** How often the engine state is pruned (pruneState): a day counter goes soon after midnight, a bucket soon after its window. */
const PRUNE_EVERY_MS = 60_000;

export const DAEMON_VERSION = '0.1.0';

export interface DaemonOptions {
  stackDir: string;
  env?: NodeJS.ProcessEnv;
  /** Diagnostic lines (the daemon log). */
  say?: (line: string) => void;
  /** Called when the daemon has drained or halted and wants the process to end with this code. */
  onExit?: (code: number) => void;
  /** `faramesh dev`: a throwaway log and state (these directories), every record dev-tagged. */
  dev?: DevOptions;
}

export interface DevOptions {
  walDir: string;
  stateDir: string;
  /** Each record once durable, as its canonical JSON (the dev audit sink). */
  echo?: (json: string) => void;
}

export class HaltError extends Error {
  override name = 'HaltError';
}

export class Daemon {
  readonly lifecycle = new Lifecycle();
  readonly paths: StackPaths;
  private settings?: RuntimeSettings;
  private log?: AuditLog;
  private decisions?: DecisionService;
  private approvals?: ApprovalBook;
  private engineState?: EngineState;
  private snapshots?: StateSnapshots;
  private feed?: RecordFeed;
  private sinks?: Sinks;
  private selectors?: SelectorFetcher;
  /** When `wal_retention` is next applied (first: once READY). */
  private retentionDueMs = 0;
  /** When credential providers that failed are tried again (they recover without waiting for a call). */
  private reprobeDueMs = 0;
  /** When the engine state is next rid of past days' budget counters and refilled rate buckets. */
  private pruneDueMs = 0;
  /** When a failed audit log is next tried again. */
  private resumeDueMs = 0;
  /** Sessions over since the last tick (MCP sessions closed), whose budgets and facts the state forgets. */
  private readonly endedSessions = new Set<string>();
  /** Records compacted into archive files. */
  private archived = 0;
  private alerts?: Alerts;
  private unhookSinks?: () => void;
  private agentServer?: LineServer;
  private supervisor?: Supervisor;
  /** Each agent's own mirror of the agent socket, for sandboxed agents (OS tier). */
  private readonly agentMirrors = new Map<string, NetServer>();
  private http?: HttpApi;
  private mcp?: McpProxy;
  private mcpTasks?: TaskBook;
  private httpProxy?: ForwardProxy;
  private reverseProxy?: ReverseProxy;
  /** The SPIFFE identity provider's watch on the Workload API, when the policy declares one. */
  private identity?: WorkloadIdentity;
  private broker?: CredentialBroker;
  /** The key that signs checkpoints: the stack's own, or a KMS. */
  private signing?: ActiveSigner;
  /** Where the forward HTTP proxy listens: the shared port, and each agent's own. */
  private httpProxyPorts?: { shared?: number; agents: Record<string, number> };
  private httpsMode = 'tunnelled, not inspected';
  /** Where the MCP proxy listens: the shared port, and each agent's own. */
  readonly mcpPorts: { shared?: number; agents: Record<string, number> } = { agents: {} };
  private tokens?: TokenBook;
  private seal?: StateSeal;
  private ownKey?: Ed25519Signer;
  /** Where the HTTP channel listens (its port, when http_listen asked for port 0). */
  httpAddress?: { address: string; port: number };
  private readonly operatorServer: LineServer;
  private sweeper?: NodeJS.Timeout;
  private draining?: Promise<void>;
  /** Ends a start still initializing (a stop came first). */
  private abortStart?: (why: Error) => void;
  /** When this process started (monotonic: uptime does not jump with the system clock). */
  private readonly startedMono = performance.now();
  private readonly env: NodeJS.ProcessEnv;
  private readonly say: (line: string) => void;

  constructor(private readonly options: DaemonOptions) {
    const paths = stackPaths(options.stackDir);
    this.paths = options.dev ? { ...paths, state: options.dev.stateDir } : paths;
    this.env = options.env ?? process.env;
    this.say = options.say ?? (() => {});
    this.operatorServer = new LineServer({
      handle: (line) => this.operate(line),
      refuse: (reason) => operatorError('bad_request', reason),
    });
    this.lifecycle.on((s) => this.say(`lifecycle ${s}`));
  }

  /** Start and resolve once READY; rejects (after going to HALT) when initialization fails or takes too long. */
  async start(): Promise<void> {
    const t0 = performance.now();
    let windowTimer: NodeJS.Timeout | undefined;
    mkdirSync(this.paths.runtime, { recursive: true, mode: 0o700 });
    // The operator channel answers `status` from the start; agents get nothing before READY.
    await this.operatorServer.listen(this.paths.operatorSocket, 0o600);
    this.lifecycle.to('INITIALIZING');
    try {
      const verifiers = readVerifierKeys(publicKeyFile(this.paths.stackDir));
      const compiled = loadCompiled(this.paths.compiled, this.paths.signature, verifiers, this.options.dev !== undefined);
      // State files are sealed with the stack key: one edited outside the daemon refuses the start.
      const seal = (this.seal = new StateSeal(this.stackKey(), verifiers));
      const configured = runtimeSettings(compiled.ir.runtime, this.paths.stackDir, this.env);
      const dev = this.options.dev;
      // The throwaway log's archives stay beside it, removed with it: never in the stack's own archive directory.
      const settings = dev ? { ...configured, walDir: dev.walDir, walArchiveDir: `${dev.walDir}-archive` } : configured;
      this.settings = settings;
      const deadline = () => {
        const spent = performance.now() - t0;
        if (spent > settings.coldStartWindowMs)
          throw new HaltError(
            `initialization took ${Math.round(spent)} ms, past cold_start_deny_window (${settings.coldStartWindowMs} ms)`,
          );
      };
      // The window is a timer, not only a check between steps: a step that hangs (a KMS or SPIRE
      // that never answers, a slow disk) must not hold the daemon in INITIALIZING past it.
      const expired = new Promise<never>((_, reject) => {
        // A stop while initializing ends the start too: its process must exit, not finish a start nobody wants.
        this.abortStart = reject;
        windowTimer = setTimeout(
          () =>
            reject(
              new HaltError(
                `initialization took ${Math.round(performance.now() - t0)} ms, past cold_start_deny_window (${settings.coldStartWindowMs} ms)`,
              ),
            ),
          // A Node timer past 2^31-1 ms fires after 1 ms: a window that long is, in practice, no window.
          Math.min(MAX_TIMER_MS, Math.max(0, settings.coldStartWindowMs - (performance.now() - t0))),
        );
      });
      expired.catch(() => {});
      const within = <T>(step: Promise<T>): Promise<T> => Promise.race([step, expired]);
      // The HTTP API listens from the start: until READY, it answers every decision DAEMON_NOT_READY
      // (with a retry hint) rather than refusing connections.
      const tokens = (this.tokens = new TokenBook(this.paths.tokens, seal));
      if (settings.http) {
        // Until the policy is in use, the reverse proxy is the one it declares: a hosted agent calling
        // the API meanwhile hears DAEMON_NOT_READY (503, retry-after), not a 404 for a route that exists.
        // (A policy whose upstream does not configure stops the start, when it is put in use.)
        let starting: ReturnType<typeof reverseConfig>;
        try {
          starting = reverseConfig(compiled.ir, this.env);
        } catch {
          starting = undefined;
        }
        const reverse = (this.reverseProxy = new ReverseProxy({
          decide: (params, tool, http, carrier) => this.decide(params, tool, http, carrier),
          principal: (token) => tokens.lookup(token),
          ready: () => this.lifecycle.state === 'READY',
          config: () => (this.decisions ? this.decisions.policy.reverse : starting),
        }));
        this.http = new HttpApi({
          proxy: (req, res, admit) => reverse.handle(req, res, admit),
          state: () => this.lifecycle.state,
          tokens,
          evaluate: (body, agent) => this.evaluate(body, agent),
          spawnEnded: (body, agent) => this.spawnEndedOverHttp(body, agent),
          approval: (id, agent) => this.approvalStatus(id, agent),
          operate: (body, by) => this.operateRequest(body, by),
          metrics: () => this.metrics(),
        });
        this.httpAddress = await within(this.http.listen(settings.http));
      }
      const signing = (this.signing = await within(
        this.checkpointSigner(compiled).catch((e: Error) => {
          throw new HaltError(e.message);
        }),
      ));
      // Agents attested by SPIFFE: the Workload API must answer before anything is decided.
      if (!dev)
        this.identity = await within(
          WorkloadIdentity.start(compiled.ir, this.env, this.say).catch((e: Error) => {
            throw new HaltError(e.message);
          }),
        );
      const opening = AuditLog.open(settings.walDir, {
        warn: this.say,
        signer: signing.signer,
        dev: dev !== undefined,
        busy: () => (this.agentServer?.reading ?? 0) > 0,
        now: daemonNow,
      });
      // A log that opens only after the window closed is closed again (its lock released).
      void opening.then(
        ({ log }) => {
          if (this.lifecycle.state === 'HALT') void log.close().catch(() => {});
        },
        () => {},
      );
      const { log, report } = await within(opening);
      this.log = log;
      // A system clock stepped back while the daemon was down: count on from the log's latest time.
      if (log.latestTimeMs !== undefined) daemonClock.notBefore(log.latestTimeMs);
      this.sayClockNews();
      if (report.truncated)
        this.say(
          `audit log: cut a torn final write (never acknowledged) of ${report.truncated.bytes} bytes at ${report.truncated.segment} offset ${report.truncated.offset}`,
        );
      if (report.snapshot === 'unusable') this.say('audit log: its snapshot was unusable; opened by reading every segment');
      const feed = (this.feed = new RecordFeed(log.size));
      log.onRecord((record, payload) => feed.push(record, payload));
      if (dev?.echo) log.onRecord((_record, payload) => dev.echo!(payload.toString('utf8')));
      this.alerts = new Alerts(this.env, this.say, dev !== undefined);
      this.startSinks(compiled, log);
      // The audit commands read the log this daemon writes, whatever governance.fms now says.
      writeFileSync(this.paths.walPointer, `${settings.walDir}\n`, { mode: 0o600 });
      deadline();
      const restored = restoreState(this.paths.state, settings.walDir, log.size, seal);
      this.archived = readBase(settings.walDir)?.base.size ?? 0;
      this.say(
        `state rebuilt from ${restored.from === 'snapshot' ? 'the snapshot and ' : ''}${restored.records} log records${restored.note ? ` (${restored.note})` : ''}`,
      );
      // The log now says which copy of each anchored state file is the latest: an older one refuses the start.
      await within(
        seal.anchor(
          restored.sealed,
          { 'approvals.json': this.paths.state, 'policy-history.json': this.paths.state, 'tokens.json': dirname(this.paths.tokens) },
          (fields) => {
            const appended = log.append({ type: 'state_sealed', ...fields });
            appended.catch((e: Error) => this.say(`could not record ${fields.file} generation ${fields.generation}: ${e.message}`));
            return appended;
          },
        ),
      );
      tokens.load();
      deadline();
      // No MCP session outlives the daemon: their clients start new ones. What the log kept of them goes.
      dropSessions(restored.state, isMcpSessionId);
      this.engineState = restored.state;
      this.approvals = new ApprovalBook(settings.approvalTtlMs, this.readApprovals());
      const broker = (this.broker = new CredentialBroker(this.env, dev !== undefined));
      this.decisions = new DecisionService(this.policyInUse(compiled), {
        log,
        state: restored.state,
        approvals: this.approvals,
        saveApprovals: () => this.writeApprovals(),
        now: daemonNow,
        say: this.say,
        delegation: DelegationTokens.open(dev ? undefined : join(this.paths.root, 'keys', 'delegation.key')),
        recording: (id, args, principal) => this.sinks?.holdArgs(id, args, principal),
        alert: (fired, subject) => this.alerts?.fire(fired, subject),
        openTasks: (agent) => this.mcpTasks?.openWrites(agent) ?? [],
        credentials: (ir, agent, tool, nowMs, carrier) => {
          // A CONNECT opens a tunnel; it is no request a credential could be written into (with TLS
          // inspection, each request inside is decided, and given its credential, on its own).
          if (tool === 'http/connect') return undefined;
          const binding = broker.bindingFor(ir, agent, tool);
          if (!binding) return undefined;
          if (carrier && ('none' in carrier || binding.cleartext !== true))
            return Promise.resolve({
              ok: false as const,
              // The provider's name (`env("…")` read), as a provider failure names it.
              provider: broker.providerLabel(binding),
              message:
                'none' in carrier ? carrier.none : `${carrier.clear}: use https, or set cleartext = true in credential "${binding.id}"`,
              blockedBy: `credential.${binding.id}`,
            });
          return broker.issue(ir, binding, agent, tool, nowMs);
        },
        // The dev identity stub: a SPIFFE id synthesized from the host, never attested.
        ...(dev
          ? { agentSvid: (agent: string) => ({ svid: `spiffe://localhost/dev/${hostname()}/${basename(this.paths.stackDir)}/${agent}` }) }
          : { agentSvid: (agent: string, nowMs: number) => this.identity?.svidFor(agent, nowMs) }),
      });
      // Quiesced agents come from the log (agent_quiesced / agent_resumed), never from a file that could be put back.
      for (const [id, q] of Object.entries(restored.quiesced)) this.decisions.quiesced.set(id, q);
      // Selector sources are fetched from now on, off the decision path (until a value lands, its fallback applies).
      // A value the snapshot kept from before the restart is not one: it may be days old, its source long gone.
      restored.state.selectors = {};
      this.selectors = new SelectorFetcher(compiled.ir, restored.state, this.say);
      this.selectors.start();
      await within(this.recordResolutions(log));
      await within(log.append({ type: 'daemon_started', pid: process.pid, version: DAEMON_VERSION }));
      if (restored.lastPolicyVersion !== compiled.policy_version)
        restored.state.policy_applied_ms = await within(
          this.recordPolicy(
            compiled,
            undefined,
            this.phaseClockKept(this.previousIr(restored.lastPolicyVersion), compiled.ir, restored.state),
          ),
        );
      this.snapshots = new StateSnapshots(
        seal,
        this.paths.state,
        settings.walDir,
        log,
        () => ({
          state: restored.state,
          facts: {
            lastPolicyVersion: this.decisions!.policy.compiled.policy_version,
            quiesced: Object.fromEntries(this.decisions!.quiesced),
            sealed: seal.loggedState(),
          },
        }),
        daemonNow(),
      );
      this.agentServer = new LineServer({
        handle: (line, agent) => this.serveAgent(line, agent),
        refuse: (reason) => rpcError(null, RPC.invalidRequest, reason),
        keepOpen: keepOpenAck,
      });
      await within(this.startMcpProxy(compiled));
      await within(this.startHttpProxy(compiled));
      await within(this.agentServer.prepare(settings.agentSocket));
      deadline();
      clearTimeout(windowTimer);
      // A housekeeping step that fails is said and tried again next second; it never takes the daemon down.
      this.sweeper = setInterval(() => void this.tick().catch((e: Error) => this.say(`housekeeping failed: ${e.message}`)), 1000);
      this.sweeper.unref();
      // The agent socket opens only now, in the same step as READY: no agent ever meets a
      // half-initialized daemon, and whoever sees READY finds the socket bound.
      this.lifecycle.to('READY');
      // Each credential provider is tried once now, off the decision path, so status knows its health.
      void this.broker?.probe(compiled.ir);
      await Promise.all([this.agentServer.bind(settings.agentSocket, 0o666), this.openAgentMirrors(compiled.ir)]);
      this.startSupervisor(compiled.ir);
      this.say(
        `ready in ${Math.round(performance.now() - t0)} ms: policy ${compiled.policy_version.slice(0, 16)}, agent socket ${settings.agentSocket}${this.httpAddress ? `, ${this.httpUrl()}` : ''}${this.mcpPorts.shared !== undefined ? `, MCP proxy http://127.0.0.1:${this.mcpPorts.shared}/mcp/<server>` : ''}`,
      );
    } catch (e) {
      clearTimeout(windowTimer);
      await this.halt((e as Error).message);
      throw e;
    }
  }

  /** The MCP proxy, when the stack asks for it: the shared port and each agent's own. */
  private async startMcpProxy(compiled: CompiledPolicy): Promise<void> {
    const ir = compiled.ir;
    const { shared, own } = proxyPorts(ir, 'mcp_proxy_port');
    if (shared === undefined && own.length === 0) return;
    const policy = () => this.decisions!.policy;
    const record = (entry: RecordInput) =>
      void this.log?.append(entry).catch((e: Error) => this.say(`mcp: could not record: ${e.message}`));
    // Loaded only for stacks that proxy MCP: the SDK's transports are most of the daemon's start-up.
    const { McpProxy } = await import('./mcp/proxy.js');
    if (this.draining) return; // stopped while the module loaded: nothing to listen for
    const tasks = (this.mcpTasks = new TaskBook((event) => record({ type: 'mcp_task', ...event })));
    const proxy = (this.mcp = new McpProxy({
      servers: () => mcpServers(policy().compiled.ir),
      decide: (params, tool, carrier) => this.decide(params, tool, undefined, carrier),
      visible: (agent, tool) => mayPermit(policy().prepared, agent, tool),
      // Audit mode blocks nothing, and a hidden tool is one the model can never call: the rollout's
      // log would never show what the policy would deny. So audit mode lists every tool.
      filterTools: () => policy().mode !== 'audit' && policy().compiled.ir.runtime.mcp_filter_tools !== false,
      denyAsError: () => policy().compiled.ir.runtime.mcp_deny_as_error === true,
      record: (entry) => record({ type: 'mcp_traffic', ...entry }),
      tasks,
      agentFor: (token) => this.agentForToken(token),
      ready: () => this.lifecycle.state === 'READY',
      stackDir: this.paths.stackDir,
      env: this.env,
      withheld: () => withheldFromServers(policy().compiled.ir),
      ended: (sessionId) => this.endedSessions.add(sessionId),
      say: this.say,
    }));
    const mirror = this.mirrorFor(ir, 'mcp');
    if (shared !== undefined) this.mcpPorts.shared = await proxy.listen(shared, undefined, mirror());
    for (const { agent, port } of own) this.mcpPorts.agents[agent] = await proxy.listen(port, agent, mirror(agent));
    // Where clients (and `faramesh mcp`) find it, a port of 0 included.
    writeFileSync(this.mcpPortsFile, `${JSON.stringify(this.mcpPorts)}\n`, { mode: 0o644 });
  }

  /** The forward HTTP proxy, when the stack asks for it: the shared port and each agent's own. */
  private async startHttpProxy(compiled: CompiledPolicy): Promise<void> {
    const { shared, own } = proxyPorts(compiled.ir, 'http_proxy_port');
    if (shared === undefined && own.length === 0) return;
    const inspect = await httpsInspection(compiled.ir, keysDir(this.paths.stackDir), this.paths.mirrors);
    this.httpsMode = inspect ? `inspected (stack CA ${proxyCaFiles(this.paths.mirrors).cert})` : 'tunnelled, not inspected';
    const proxy = (this.httpProxy = new ForwardProxy({
      decide: (params, tool, http, carrier) => this.decide(params, tool, http, carrier),
      agentFor: (token) => this.agentForToken(token),
      ready: () => this.lifecycle.state === 'READY',
      say: this.say,
      ...(inspect ? { inspect } : {}),
    }));
    const ports: { shared?: number; agents: Record<string, number> } = (this.httpProxyPorts = { agents: {} });
    const mirror = this.mirrorFor(compiled.ir, 'http');
    if (shared !== undefined) ports.shared = await proxy.listen(shared, undefined, mirror());
    for (const { agent, port } of own) ports.agents[agent] = await proxy.listen(port, agent, mirror(agent));
    writeFileSync(this.httpProxyPortsFile, `${JSON.stringify(ports)}\n`, { mode: 0o644 });
  }

  /** After READY: the supervisor, and the stack's supervised_command when it has one. */
  private startSupervisor(ir: PolicyIR): void {
    const restart = ir.runtime.supervisor_restart;
    this.supervisor = new Supervisor({
      launcher: this.paths.launcher,
      cwd: this.paths.stackDir,
      env: supervisedEnv(this.env, Array.isArray(ir.runtime.agent_env) ? ir.runtime.agent_env.map(String) : []),
      restart: restart === 'always' || restart === 'never' ? restart : 'on-failure',
      say: this.say,
    });
    const command = ir.runtime.supervised_command;
    if (typeof command !== 'string' || this.options.dev !== undefined) return;
    try {
      this.supervisor.launch(commandArgv(command));
    } catch (e) {
      this.say(`supervisor: ${(e as Error).message}`);
    }
  }

  /** With the OS tier on, each proxy port is mirrored on a Unix socket that agents' sandboxes bind. */
  private mirrorFor(ir: PolicyIR, kind: 'http' | 'mcp'): (agent?: string) => string | undefined {
    return (agent) => (sandboxed(ir) ? proxyMirror(this.paths, kind, agent) : undefined);
  }

  private get httpProxyPortsFile(): string {
    return join(this.paths.runtime, 'http-proxy.json');
  }

  private agentForToken(token: string): string | undefined {
    const p = this.tokens?.lookup(token);
    return p?.role === 'agent' ? p.agent_id : undefined;
  }

  private get mcpPortsFile(): string {
    return join(this.paths.runtime, 'mcp.json');
  }

  /** The HTTP channel's base URL (IPv6 hosts in brackets). */
  httpUrl(): string | undefined {
    if (!this.httpAddress || !this.settings?.http) return undefined;
    const host = this.httpAddress.address.includes(':') ? `[${this.httpAddress.address}]` : this.httpAddress.address;
    return `${this.settings.http.tls ? 'https' : 'http'}://${host}:${this.httpAddress.port}`;
  }

  get agentSocket(): string | undefined {
    return this.settings?.agentSocket;
  }

  /** DRAINING: stop accepting calls, finish those in progress, seal the log with a checkpoint, HALT. */
  drain(reason: string): Promise<void> {
    this.draining ??= (async () => {
      if (this.lifecycle.state === 'READY') this.lifecycle.to('DRAINING');
      else if (this.lifecycle.state === 'INITIALIZING') this.abortStart?.(new HaltError(`stopped while initializing (${reason})`));
      // Waiting tails answer now: an operator's long poll over HTTP (up to 25 s) must not hold the
      // HTTP API open, and with it the whole stop, past what apply --stop waits.
      this.feed?.close();
      // Supervised agents go first (SIGINT, then SIGTERM, then SIGKILL), while their calls are still answered.
      await this.supervisor?.stop(undefined, SUPERVISOR_STOP_GRACE_MS).catch((e: Error) => this.say(`supervisor: ${e.message}`));
      for (const m of this.agentMirrors.values()) m.close();
      await Promise.all([this.agentServer?.close(), this.http?.close(), this.mcp?.close(), this.httpProxy?.close()]);
      this.reverseProxy?.close();
      this.identity?.close();
      this.mcpTasks?.close();
      this.selectors?.stop();
      await this.sweepApprovals(true);
      await this.log?.append({ type: 'daemon_stopped', reason }).catch((e: Error) => this.say(`could not record the stop: ${e.message}`));
      // Sinks get a moment to ship the end of the log; what they miss, they ship after the next start.
      await this.sinks?.stop();
      // The next start replays nothing.
      await this.snapshots?.take(daemonNow()).catch((e: Error) => this.say(`could not snapshot the state: ${e.message}`));
      await this.teardown();
    })();
    return this.draining;
  }

  private async halt(why: string): Promise<void> {
    this.say(`halt: ${why}`);
    for (const m of this.agentMirrors.values()) m.close();
    await Promise.all([this.agentServer?.close(), this.http?.close(), this.mcp?.close(), this.httpProxy?.close()]).catch(() => {});
    this.reverseProxy?.close();
    await this.teardown();
  }

  /** Close the log (signing what is unsigned) and the operator socket, remove the sockets, HALT. Never throws: the process must end. */
  private async teardown(): Promise<void> {
    clearInterval(this.sweeper);
    this.selectors?.stop();
    // Waiting tails return now, or the operator socket could not close.
    this.feed?.close();
    await this.log?.close().catch((e: Error) => this.say(`could not close the log cleanly: ${e.message}`));
    // A stop signs what the log holds; when it could not (a KMS out of reach, a full disk), the
    // operator hears so: until the next start signs them, those records have the hash chain alone.
    const log = this.log;
    if (log && log.unsignedRecords > 0)
      this.say(
        `stopped with ${log.unsignedRecords} records no checkpoint signs (${log.lastCheckpointError?.message ?? log.failure ?? 'the checkpoint was not written'}); the next start signs them`,
      );
    await this.operatorServer.close().catch(() => {});
    this.removeRuntimeFiles();
    if (this.lifecycle.state !== 'HALT') this.lifecycle.to('HALT');
  }

  private removeRuntimeFiles(): void {
    // Only sockets this daemon bound: a start that failed because another daemon holds the path
    // must leave that daemon's socket alone.
    for (const path of [
      this.agentServer?.bound,
      this.operatorServer.bound,
      this.log ? this.paths.walPointer : undefined,
      this.mcp ? this.mcpPortsFile : undefined,
    ])
      if (path && existsSync(path)) {
        try {
          unlinkSync(path);
        } catch {
          // Already gone.
        }
      }
  }

  /**
   * Under the OS tier, each agent's own mirror of the agent socket (its sandbox binds only that one):
   * opened for the agents `ir` sandboxes that have none yet. The agents opened; when one fails, those
   * are closed again.
   */
  private async openAgentMirrors(ir: PolicyIR): Promise<string[]> {
    const added: string[] = [];
    try {
      const opening: Promise<void>[] = [];
      for (const agent of sandboxed(ir) ? ir.agents.map((a) => a.id) : [])
        if (!this.agentMirrors.has(agent)) {
          const mirror = openMirror(this.agentServer!.adopter(agent), agentSocketMirror(this.paths, agent));
          this.agentMirrors.set(agent, mirror.server);
          added.push(agent);
          opening.push(mirror.listening);
        }
      await Promise.all(opening);
      return added;
    } catch (e) {
      this.closeAgentMirrors(added);
      throw e;
    }
  }

  private closeAgentMirrors(agents: readonly string[]): void {
    for (const agent of agents) {
      this.agentMirrors.get(agent)?.close();
      this.agentMirrors.delete(agent);
    }
  }

  /** One message from an agent; `fixed`: the agent whose own mirror it came through, who alone may speak there. */
  private async serveAgent(line: string, fixed?: string): Promise<string> {
    const msg = parseAgentMessage(line);
    if (msg.kind === 'error') return msg.legacy ? JSON.stringify({ error: msg.message }) : rpcError(msg.rpcId, msg.rpcCode, msg.message);
    const reply = (result: unknown) => (msg.legacy ? JSON.stringify(result) : rpcResult(msg.rpcId, result));
    if (fixed !== undefined && msg.params.agent_id !== undefined && msg.params.agent_id !== fixed) {
      const why = `this socket speaks for agent ${fixed} only, not ${msg.params.agent_id}`;
      return msg.legacy ? JSON.stringify({ error: why }) : rpcError(msg.rpcId, RPC.invalidParams, why);
    }
    if (msg.kind === 'poll') return reply(this.decisions!.poll(fixed === undefined ? msg.params : { ...msg.params, agent_id: fixed }));
    if (msg.kind === 'spawn_ended') {
      const ended = await this.endSpawns(msg.params.agent_id, msg.params.count ?? 1);
      if ('result' in ended) return reply(ended.result);
      return msg.legacy
        ? JSON.stringify({ error: ended.error.message })
        : rpcError(msg.rpcId, RPC.server, `${ended.error.code}: ${ended.error.message}`);
    }
    const tool = toolIdOf(msg.params);
    if (!tool) {
      const why = 'govern needs `tool` (with `operation`) or `tool_id`';
      return msg.legacy ? JSON.stringify({ error: why }) : rpcError(msg.rpcId, RPC.invalidParams, why);
    }
    return reply(await this.decide(msg.params, tool, undefined, this.sdkCarrier(tool)));
  }

  /** Spawned children ended, from an agent or an operator: refused while the daemon is not READY. */
  private async endSpawns(
    agent: string,
    count: number,
    by?: string,
  ): Promise<{ result: { agent_id: string; ended: number; live: number } } | { error: { code: string; message: string } }> {
    if (this.lifecycle.state !== 'READY' || !this.decisions)
      return { error: { code: 'DAEMON_NOT_READY', message: 'the daemon is not ready' } };
    try {
      return { result: await this.decisions.endSpawns(agent, count, by) };
    } catch (e) {
      if (e instanceof SpawnRefusal) return { error: { code: e.code, message: e.message } };
      throw e;
    }
  }

  /** `POST /v1/spawn_ended`: as on the socket; an agent token fixes the agent. */
  private async spawnEndedOverHttp(body: unknown, agent: string | undefined): Promise<{ status: number; body: unknown }> {
    const parsed = SpawnEndedParams.safeParse(withTokenAgent(body, agent));
    if (!parsed.success) return httpError(400, 'bad_request', `invalid spawn_ended request: ${parsed.error.issues[0]?.message}`);
    const foreign = otherAgent(agent, parsed.data.agent_id);
    if (foreign) return foreign;
    const ended = await this.endSpawns(parsed.data.agent_id, parsed.data.count ?? 1);
    if ('result' in ended) return { status: 200, body: ended.result };
    return { status: ended.error.code === 'NO_LIVE_SPAWNS' ? 409 : 503, body: { error: ended.error } };
  }

  /** A credential the stack's proxies attach is never handed to a caller of the socket or `/v1/evaluate`. */
  private sdkCarrier(tool: string): Carrier | undefined {
    const why = this.decisions?.policy.proxyOnly?.(tool);
    return why === undefined ? undefined : { none: why };
  }

  /** Every channel's decisions come through here. */
  private decide(params: GovernParams, tool: string, http?: HttpFields, carrier?: Carrier): Promise<GovernResult> | GovernResult {
    const state = this.lifecycle.state;
    if (state !== 'READY' || !this.decisions)
      return refusal(params.call_id ?? '', state === 'DRAINING' || state === 'HALT' ? STOPPING : NOT_READY, performance.now());
    return this.decisions.govern(params, tool, http, carrier);
  }

  /** `POST /v1/evaluate`: an agent token fixes the agent; a body claiming another is refused. */
  private async evaluate(body: unknown, agent: string | undefined): Promise<{ status: number; body: unknown }> {
    const parsed = parseGovernParams(withTokenAgent(body, agent));
    if (!parsed.ok) return httpError(400, 'bad_request', parsed.message);
    const foreign = otherAgent(agent, parsed.params.agent_id);
    if (foreign) return foreign;
    return { status: 200, body: await this.decide(parsed.params, parsed.tool, undefined, this.sdkCarrier(parsed.tool)) };
  }

  /** `GET /v1/approvals/<id>`: an agent token sees only its own agent's approvals. */
  private approvalStatus(id: string, agent: string | undefined): object | undefined {
    // INITIALIZING: the approvals are not loaded yet, so no status can be given (the API answers 503).
    if (!this.decisions) return undefined;
    const polled = this.decisions.poll({ defer_token: id, ...(agent ? { agent_id: agent } : {}) });
    const a = polled.status === 'unknown' ? undefined : this.approvals?.get(id, daemonNow());
    return { approval_id: id, status: polled.status, ...(a ? { agent_id: a.agent_id, tool: a.tool, expires_at: a.expires_at } : {}) };
  }

  private operate(line: string): Promise<string> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      return Promise.resolve(operatorError('bad_request', 'the request is not JSON'));
    }
    return this.operateRequest(parsed);
  }

  /**
   * One operator request, from the socket or (with `by`, the operator token's name) over HTTP. The
   * name that resolves an approval is the authenticated one, never what the body says.
   */
  private async operateRequest(parsed: unknown, by?: string): Promise<string> {
    if (by !== undefined && typeof parsed === 'object' && parsed !== null) {
      const params = (parsed as { params?: unknown }).params;
      if (typeof params === 'object' && params !== null) parsed = { ...parsed, params: { ...params, by } };
    }
    const req = OperatorRequest.safeParse(parsed);
    if (!req.success) return operatorError('bad_request', `not an operator request: ${req.error.issues[0]?.message ?? 'invalid'}`);
    const r = req.data;
    // Over HTTP an operator token resolves approvals, applies the signed policy and reads state; it
    // never names a command for the daemon to run: that would be a shell on the daemon's host (its
    // keys, its policy) for anyone holding a token. Only the stack's own supervised_command starts.
    if (by !== undefined && r.method === 'supervisor_launch' && r.params?.command !== undefined)
      return operatorError(
        'forbidden',
        "supervisor_launch with a command is on the operator socket only; over HTTP it starts the stack's supervised_command",
      );
    // Nor a directory for the daemon to write to.
    if (by !== undefined && r.method === 'audit.compact' && r.params.archive_dir !== undefined)
      return operatorError(
        'forbidden',
        'audit.compact with an archive_dir is on the operator socket only; over HTTP it archives beside the log',
      );
    if (r.method === 'status') return operatorResult(this.status());
    if (r.method === 'audit.tail')
      return this.feed
        ? operatorResult(await this.feed.tail(r.params ?? {}))
        : operatorError('not_ready', `the daemon is ${this.lifecycle.state}`);
    if (r.method === 'stop') {
      // Reply first, then drain: the caller waits for the process to exit.
      setImmediate(() => void this.drain(r.params?.reason ?? 'stopped by operator').then(() => this.options.onExit?.(0)));
      return operatorResult({ stopping: true, pid: process.pid });
    }
    if (this.lifecycle.state !== 'READY' || !this.approvals || !this.decisions)
      return operatorError('not_ready', `the daemon is ${this.lifecycle.state}`);
    const now = daemonNow();
    switch (r.method) {
      case 'approvals.list': {
        const status = r.params?.status ?? 'pending';
        const list = this.approvals
          .list(now)
          .filter((a) => (status === 'all' || a.status === status) && (!r.params?.agent || a.agent_id === r.params.agent));
        return operatorResult({ approvals: list.map(publicApproval) });
      }
      case 'approvals.show': {
        const a = this.approvals.get(r.params.id, now);
        return a ? operatorResult(publicApproval(a)) : operatorError('not_found', `no approval ${r.params.id}`);
      }
      case 'approvals.approve':
      case 'approvals.deny': {
        const outcome = r.method === 'approvals.approve' ? 'approved' : 'denied';
        try {
          const found = this.approvals.get(r.params.id, now);
          const before = found ? { ...found } : undefined;
          const a = this.approvals.resolve(r.params.id, outcome, r.params.by, r.params.reason, now);
          // Durable before it is acknowledged: a restart keeps the operator's decision. One that
          // cannot be saved is taken back, so that no call runs under a resolution the log lacks.
          try {
            this.writeApprovals();
          } catch (e) {
            this.approvals.unresolve(before!);
            return operatorError('unavailable', `the approvals could not be saved (${(e as Error).message}): ${a.id} is still pending`);
          }
          try {
            await this.log!.append({
              type: 'approval_resolved',
              agent_id: a.agent_id,
              action_id: a.action_id,
              approval_id: a.id,
              outcome,
              by: r.params.by,
              ...(r.params.reason ? { reason: r.params.reason } : {}),
            });
          } catch (e) {
            // A resolution the log does not hold is taken back too: a call run under it would be a
            // decision no record explains (and calls decided meanwhile were refused with the log).
            this.approvals.unresolve(before!);
            try {
              this.writeApprovals();
            } catch {
              // Saved whole by the next change that can be saved; the log refuses everything meanwhile.
            }
            return operatorError('unavailable', `the audit log could not record it (${(e as Error).message}): ${a.id} is still pending`);
          }
          // Saved as recorded by the next change to the book (until then, a restart records it again).
          this.approvals.resolutionRecorded(a);
          if (outcome === 'approved') this.alertApproved(a, r.params.by, r.params.reason);
          return operatorResult(publicApproval(a));
        } catch (e) {
          if (e instanceof ApprovalError) return operatorError(e.kind, e.message);
          throw e;
        }
      }
      case 'apply':
        try {
          return operatorResult(await this.oneSwapAtATime(() => this.swapPolicy()));
        } catch (e) {
          if (e instanceof OperatorRefusal) return operatorError(e.code, e.message);
          throw e;
        }
      case 'agents.list':
        return operatorResult({ agents: this.agents(now) });
      case 'explain': {
        const { now_ms, principal, model, session_id, tags, ...call } = r.params;
        const request: DecisionRequest = {
          ...call,
          args: call.args ?? {},
          ...(principal ? { principal } : {}),
          ...(model ? { model } : {}),
          ...(session_id ? { session_id } : {}),
          ...(tags ? { tags } : {}),
        };
        return operatorResult(this.decisions.explain(request, now_ms ?? now));
      }
      case 'agents.quiesce':
      case 'agents.resume': {
        const { id, by, reason } = r.params;
        if (!this.decisions.policy.compiled.ir.agents.some((a) => a.id === id))
          return operatorError('not_found', `no agent ${id} in the applied policy`);
        const quiesce = r.method === 'agents.quiesce';
        const before = this.decisions.quiesced.get(id);
        if (quiesce) this.decisions.quiesced.set(id, { by, at: new Date(now).toISOString(), ...(reason ? { reason } : {}) });
        else this.decisions.quiesced.delete(id);
        // The record is the state: a restart rebuilds the quiesced agents from the log.
        try {
          await this.log!.append({ type: quiesce ? 'agent_quiesced' : 'agent_resumed', agent_id: id, by, ...(reason ? { reason } : {}) });
        } catch (e) {
          // Kept in memory only, it would be undone unsaid when the log resumes (the state is rebuilt
          // from the log), or at the next start: taken back now, and the operator told to retry.
          if (before) this.decisions.quiesced.set(id, before);
          else this.decisions.quiesced.delete(id);
          return operatorError(
            'unavailable',
            `the audit log could not record it (${(e as Error).message}): agent ${id} is still ${before ? 'quiesced' : 'active'}`,
          );
        }
        return operatorResult(this.agents(now).find((a) => a.id === id));
      }
      case 'agents.spawn_ended': {
        const { id, by, count } = r.params;
        if (!this.decisions.policy.compiled.ir.agents.some((a) => a.id === id))
          return operatorError('not_found', `no agent ${id} in the applied policy`);
        const ended = await this.endSpawns(id, count ?? 1, by);
        return 'result' in ended
          ? operatorResult(ended.result)
          : operatorError(ended.error.code === 'NO_LIVE_SPAWNS' ? 'not_found' : 'unavailable', ended.error.message);
      }
      case 'policy.history': {
        const current = this.decisions.policy.compiled.policy_version;
        return operatorResult({ current, versions: this.policyHistory().map((h, i) => ({ n: `v${i + 1}`, ...h })) });
      }
      case 'rollback':
        try {
          return operatorResult(await this.oneSwapAtATime(() => this.rollback(r.params.to, r.params.by, by !== undefined)));
        } catch (e) {
          if (e instanceof OperatorRefusal) return operatorError(e.code, e.message);
          if (e instanceof CompiledStateError) return operatorError('refused', e.message);
          throw e;
        }
      case 'audit.compact':
        try {
          return operatorResult(await this.compact(r.params.older_than_s * 1000, r.params.by, r.params.archive_dir));
        } catch (e) {
          return operatorError('refused', `the log was not compacted: ${(e as Error).message}`);
        }
      case 'supervisor_list':
        return operatorResult({ children: this.supervisor!.list() });
      case 'supervisor_launch':
        try {
          const given = r.params?.command;
          const configured = this.decisions.policy.compiled.ir.runtime.supervised_command;
          const command = given ?? (typeof configured === 'string' ? configured : undefined);
          if (command === undefined) return operatorError('bad_request', 'no command given, and the stack has no supervised_command');
          return operatorResult(this.supervisor!.launch(Array.isArray(command) ? command : commandArgv(command)));
        } catch (e) {
          return operatorError('bad_request', (e as Error).message);
        }
      case 'supervisor_stop':
        try {
          return operatorResult({ children: await this.supervisor!.stop(r.params?.id, r.params?.grace_ms) });
        } catch (e) {
          return operatorError('not_found', (e as Error).message);
        }
      case 'tokens.list':
        return operatorResult({ tokens: this.tokens!.list() });
      case 'tokens.issue':
      case 'tokens.revoke':
        try {
          if (r.method === 'tokens.revoke') return operatorResult(await this.tokens!.revoke(r.params.name));
          const { role, name, agent } = r.params;
          if (role === 'agent' && (!agent || !this.decisions.policy.compiled.ir.agents.some((a) => a.id === agent)))
            return operatorError('bad_request', agent ? `no agent ${agent} in the applied policy` : 'an agent token needs the agent');
          return operatorResult(await this.tokens!.issue(role, name, agent, now));
        } catch (e) {
          if (e instanceof TokenError) return operatorError(e.kind, e.message);
          // The file is written but the log could not record it: the change is not acknowledged.
          return operatorError('unavailable', `the audit log could not record the token file (${(e as Error).message})`);
        }
    }
  }

  /** Each agent of the applied policy: active or quiesced, its decisions and pending approvals. */
  private agents(now: number): { id: string; state: string }[] {
    const pending = this.approvals!.list(now).filter((a) => a.status === 'pending');
    return this.decisions!.policy.compiled.ir.agents.map((a) => {
      const q = this.decisions!.quiesced.get(a.id);
      return {
        id: a.id,
        state: q ? 'quiesced' : 'active',
        ...(q ? { quiesced: q } : {}),
        default: a.default ?? 'deny',
        rules: a.rules.length,
        budgets: a.budgets.map((b) => b.id),
        ...(a.spawn ? { spawns: { live: liveSpawns(this.engineState!, a.id), max_concurrent: a.spawn.max_concurrent ?? null } } : {}),
        decisions: this.decisions!.countsByAgent.get(a.id) ?? { permit: 0, deny: 0, defer: 0 },
        pending_approvals: pending.filter((p) => p.agent_id === a.id).length,
      };
    });
  }

  private metrics(): string {
    return metricsText({
      state: this.lifecycle.state,
      decisions: this.decisions?.counts ?? { permit: 0, deny: 0, defer: 0 },
      notEnforced: this.decisions?.notEnforced ?? { deny: 0, defer: 0 },
      latency: this.decisions?.latency ?? new LatencyHistogram(),
      pendingApprovals: this.approvals?.list(daemonNow()).filter((a) => a.status === 'pending').length ?? 0,
      logRecords: this.log?.size ?? 0,
      degraded: this.decisions?.degraded !== undefined,
      uptimeSeconds: (performance.now() - this.startedMono) / 1000,
    });
  }

  /** The policy's audit sinks, reading the log from their saved positions (new ones from its end). */
  private startSinks(compiled: CompiledPolicy, log: AuditLog): void {
    // faramesh dev ships nowhere: its records are echoed to stderr instead.
    const providers = this.options.dev ? [] : compiled.ir.providers;
    const sinks = new Sinks(providers, this.settings!.walDir, this.paths.state, this.seal!, log.tip(), this.env, this.say, this.sinks);
    sinks.durableEnd = this.feed!.heard;
    this.sinks = sinks;
    this.unhookSinks?.();
    this.unhookSinks = sinks.active ? log.onRecord((r) => sinks.kick(r.seq)) : undefined;
  }

  /** A compiled policy made ready to decide with: prepared rules, and its identity providers loaded. */
  private policyInUse(compiled: CompiledPolicy): PolicyInUse {
    // Sinks that cannot be configured refuse the policy; alerts that cannot be delivered are only said.
    // (faramesh dev uses neither.)
    if (!this.options.dev) {
      checkSinks(compiled.ir.providers, this.env);
      for (const problem of Alerts.problems(notifyTargets(compiled.ir), this.env)) this.say(`alerts: ${problem}`);
    }
    const settings = runtimeSettings(compiled.ir.runtime, this.paths.stackDir, this.env);
    const trustClaims = this.options.dev !== undefined || settings.trustSdkPrincipal;
    const principals = new PrincipalGate(compiled.ir.identities, this.paths.stackDir, this.env, trustClaims);
    const reverse = reverseConfig(compiled.ir, this.env);
    return {
      compiled,
      prepared: prepare(compiled.ir),
      principals,
      ...(reverse ? { reverse } : {}),
      proxyOnly: proxyOnlyCredentials(compiled.ir, reverse !== undefined),
      appliedAt: new Date(daemonNow()).toISOString(),
      mode: settings.mode,
      ...(settings.walRetentionMs !== undefined ? { walRetentionMs: settings.walRetentionMs } : {}),
    };
  }

  /**
   * Swaps (apply, rollback) run one after another. Each reads the policy in force, awaits its record,
   * then assigns: two at once would each compare against the same policy, so one could answer
   * "unchanged" while the other put a different policy in force, and a rollback could leave the
   * compiled policy on disk (what the next start loads) other than the one the daemon enforces.
   */
  private swapQueue: Promise<unknown> = Promise.resolve();
  private oneSwapAtATime<T>(swap: () => Promise<T>): Promise<T> {
    const run = this.swapQueue.then(swap, swap);
    this.swapQueue = run.catch(() => undefined);
    return run;
  }

  /** Load the compiled policy apply wrote (signature checked) and swap it in whole. */
  private async swapPolicy(by?: string): Promise<{ changed: boolean; policy_version: string }> {
    const verifiers = readVerifierKeys(publicKeyFile(this.paths.stackDir));
    const compiled = loadCompiled(this.paths.compiled, this.paths.signature, verifiers);
    const current = this.decisions!.policy.compiled;
    if (current.policy_version === compiled.policy_version) return { changed: false, policy_version: compiled.policy_version };
    const fixed = fixedAtStartChanges(current.ir, compiled.ir, this.paths.stackDir, this.env);
    if (fixed.length > 0)
      throw new OperatorRefusal(
        'refused',
        `${fixed.join(', ')} changed, and the running daemon takes ${fixed.length === 1 ? 'it' : 'them'} only when it starts: run faramesh apply --stop, then faramesh apply`,
      );
    let next: PolicyInUse;
    try {
      next = this.policyInUse(compiled);
    } catch (e) {
      // An identity provider it cannot use: the running policy stays.
      throw new OperatorRefusal('refused', (e as Error).message);
    }
    // A changed signing provider must work before the policy naming it does.
    const signing =
      signingSource(compiled.ir) === this.signing?.source
        ? undefined
        : await this.checkpointSigner(compiled).catch((e: Error) => {
            throw new OperatorRefusal('refused', e.message);
          });
    // So must a changed SPIFFE identity provider.
    let identityChanged: boolean;
    try {
      identityChanged = this.options.dev === undefined && identitySource(compiled.ir) !== this.identity?.source;
    } catch (e) {
      // An identity block it cannot use (two SPIFFE providers): refused with the reason, the running policy stays.
      throw new OperatorRefusal('refused', (e as Error).message);
    }
    const identity = identityChanged
      ? await WorkloadIdentity.start(compiled.ir, this.env, this.say).catch((e: Error) => {
          throw new OperatorRefusal('refused', e.message);
        })
      : this.identity;
    // An agent the policy gains gets its sandbox's mirror of the agent socket before anything is
    // recorded: one that cannot be opened refuses the swap, so a failure here never leaves the
    // daemon on a policy the operator was told it refused. (Until the swap lands, a call through
    // it is decided by the policy in force, as any call of an agent it does not declare.)
    let gained: string[];
    try {
      gained = await this.openAgentMirrors(compiled.ir);
    } catch (e) {
      if (identityChanged) identity?.close();
      throw new OperatorRefusal('refused', `the sandbox mirror of the agent socket could not be opened: ${(e as Error).message}`);
    }
    let appliedMs: number;
    try {
      if (signing) {
        // What the old key had not signed is signed by it, then the log names the new key.
        await this.log!.useSigner(signing.signer);
        this.signing = signing;
        this.say(`checkpoints now signed by ${signing.via}`);
      }
      // Recorded before any decision names the new version.
      appliedMs = await this.recordPolicy(compiled, by, this.phaseClockKept(current.ir, compiled.ir, this.engineState!));
    } catch (e) {
      if (identityChanged) identity?.close();
      this.closeAgentMirrors(gained);
      throw e;
    }
    // One synchronous step: no call sees the new policy with the old phase clock, or the old identity provider.
    const previous = this.identity;
    this.identity = identity;
    this.engineState!.policy_applied_ms = appliedMs;
    this.decisions!.policy = next;
    this.mcp?.policyChanged();
    this.selectors?.stop();
    this.selectors = new SelectorFetcher(compiled.ir, this.engineState!, this.say);
    this.selectors.start();
    void this.broker?.probe(compiled.ir);
    this.approvals!.ttlMs = runtimeSettings(compiled.ir.runtime, this.paths.stackDir, this.env).approvalTtlMs;
    if (identityChanged) previous?.close();
    // An agent the policy lost can no longer reach the daemon from its sandbox.
    const kept = new Set(sandboxed(compiled.ir) ? compiled.ir.agents.map((a) => a.id) : []);
    this.closeAgentMirrors([...this.agentMirrors.keys()].filter((agent) => !kept.has(agent)));
    this.say(`policy swapped: ${current.policy_version.slice(0, 16)} → ${compiled.policy_version.slice(0, 16)}`);
    if (canonicalJson(current.ir.providers) !== canonicalJson(compiled.ir.providers)) {
      // Each sink resumes from its saved position: a changed sink ships on from where it was.
      await this.sinks?.stop(500);
      this.startSinks(compiled, this.log!);
    }
    return { changed: true, policy_version: compiled.policy_version };
  }

  /** The stack's own ed25519 key (created on first use): it seals the state files, and signs checkpoints without a KMS. */
  private stackKey(): Ed25519Signer {
    this.ownKey ??= loadStackSigner(this.paths.stackDir, originFor(basename(this.paths.stackDir)));
    return this.ownKey;
  }

  /** The checkpoint signer a policy asks for; a KMS key is pinned in `audit.pub` beside the stack key. */
  private async checkpointSigner(compiled: CompiledPolicy): Promise<ActiveSigner> {
    // faramesh dev contacts no KMS: its throwaway log is signed with the stack key.
    if (this.options.dev) return { signer: this.stackKey(), via: 'local key (faramesh dev: no KMS)', source: signingSource(compiled.ir) };
    const active = await checkpointSigner(compiled.ir, this.env, this.stackKey());
    if (active.provider) pinKey(this.paths.stackDir, encodeVerifierKey(active.signer));
    return active;
  }

  /**
   * When the phases of `next` started, if they are the phases in force: a policy that changes
   * something else (a rate limit, a rule outside the phases) must not start its phases again, or an
   * ended phase (`audit-only` → `enforce`) would be back in force for its whole duration.
   */
  private phaseClockKept(was: PolicyIR | undefined, next: PolicyIR, state: EngineState): number | undefined {
    if (!was || state.policy_applied_ms === undefined) return undefined;
    if (!next.agents.some((a) => a.phases.length > 0)) return undefined;
    return phasesOf(was) === phasesOf(next) ? state.policy_applied_ms : undefined;
  }

  /** The IR of a version applied before, from its signed copy (undefined when it cannot be had). */
  private previousIr(version: string | undefined): PolicyIR | undefined {
    if (version === undefined) return undefined;
    try {
      const [file, sig] = versionFiles(this.paths, version);
      const kept = loadCompiled(file, sig, readVerifierKeys(publicKeyFile(this.paths.stackDir)));
      return kept.policy_version === version ? kept.ir : undefined;
    } catch {
      return undefined;
    }
  }

  /** Record a policy as applied (in the log, and in the history rollback reads); returns when its phases are timed from (then, or `phasesSince`). */
  private async recordPolicy(compiled: CompiledPolicy, by?: string, phasesSince?: number): Promise<number> {
    const record = await this.log!.append({
      type: 'policy_applied',
      policy_version: compiled.policy_version,
      source_hash: compiled.source_hash,
      ...(by ? { by } : {}),
      ...(phasesSince !== undefined ? { phases_since: new Date(phasesSince).toISOString() } : {}),
    });
    const history = this.policyHistory();
    history.push({ version: compiled.policy_version, applied_at: record.time, source: compiled.source, ...(by ? { by } : {}) });
    // Recorded in the log before the swap is acknowledged, so the history cannot be put back to before it.
    await this.writeState('policy-history.json', { versions: history });
    return phasesSince ?? Date.parse(record.time);
  }

  private policyHistory(): { version: string; applied_at: string; source: string; by?: string }[] {
    return (
      this.readState<{ versions?: { version: string; applied_at: string; source: string; by?: string }[] }>('policy-history.json')
        .versions ?? []
    );
  }

  /**
   * Re-apply an earlier policy: \`to\` is \`v<N>\` (the Nth application in the history), or a version
   * hash (a prefix of 8 or more); by default the version in force before the current one. Its
   * signed copy is checked like any compiled policy, becomes the current one, and is swapped in.
   */
  private async rollback(
    to: string | undefined,
    by: string,
    overHttp = false,
  ): Promise<{ changed: boolean; policy_version: string; from: string }> {
    const history = this.policyHistory();
    const current = this.decisions!.policy.compiled.policy_version;
    let target: string | undefined;
    if (to === undefined) target = [...history].reverse().find((h) => h.version !== current)?.version;
    else if (/^v\d+$/.test(to)) target = history[Number(to.slice(1)) - 1]?.version;
    else if (/^[0-9a-f]{8,64}$/.test(to)) {
      const matches = new Set(history.filter((h) => h.version.startsWith(to)).map((h) => h.version));
      if (matches.size > 1) throw new OperatorRefusal('bad_request', `'${to}' matches ${matches.size} versions; give more of the hash`);
      target = [...matches][0];
    } else throw new OperatorRefusal('bad_request', `'${to}' is neither v<N> nor a policy version hash`);
    if (!target)
      throw new OperatorRefusal(
        'not_found',
        to === undefined ? 'no earlier policy version to roll back to' : `no applied policy version ${to}`,
      );
    const [file, sig] = versionFiles(this.paths, target);
    if (!existsSync(file) || !existsSync(sig))
      throw new OperatorRefusal('not_found', `the signed copy of ${target.slice(0, 16)} is missing from ${this.paths.versions}`);
    // Checked before it becomes current: a tampered copy changes nothing, and neither does another
    // signed policy put in its place (the operator asked for this version, not whatever the file holds).
    const kept = loadCompiled(file, sig, readVerifierKeys(publicKeyFile(this.paths.stackDir)));
    if (kept.policy_version !== target)
      throw new OperatorRefusal(
        'refused',
        `the signed copy kept for ${target.slice(0, 16)} holds policy ${kept.policy_version.slice(0, 16)} instead: refused, nothing changed`,
      );
    // The agent launcher, agent.env and sandbox plan are written on the host (apply, or faramesh
    // rollback there). Over HTTP nobody rewrites them: a version whose agents would run otherwise (its
    // OS tier, stripped variables, proxy ports) would leave them running as the version before.
    if (overHttp && agentFacing(kept.ir) !== agentFacing(this.decisions!.policy.compiled.ir))
      throw new OperatorRefusal(
        'forbidden',
        `${target.slice(0, 16)} runs agents otherwise (runtime or enforcement settings): roll back with faramesh rollback on the daemon's host, which rewrites the agent launcher`,
      );
    this.installVersion(target);
    try {
      return { ...(await this.swapPolicy(by)), from: current };
    } catch (e) {
      // Refused: the files the daemon starts from are the policy it still runs.
      this.installVersion(current);
      throw e;
    }
  }

  /** Make a kept signed version the compiled policy the daemon loads (on apply, or its next start). */
  private installVersion(version: string): void {
    const [file, sig] = versionFiles(this.paths, version);
    if (!existsSync(file) || !existsSync(sig)) return;
    writeDurable(dirname(this.paths.compiled), basename(this.paths.compiled), readFileSync(file), 0o644);
    writeDurable(dirname(this.paths.signature), basename(this.paths.signature), readFileSync(sig), 0o644);
  }

  private status(): object {
    const now = daemonNow();
    const pending = this.approvals?.list(now).filter((a) => a.status === 'pending') ?? [];
    const oldest = pending.reduce<number | undefined>((m, a) => Math.min(m ?? Infinity, Date.parse(a.deferred_at)), undefined);
    const policy = this.decisions?.policy;
    return {
      state: this.lifecycle.state,
      pid: process.pid,
      uptime_seconds: Math.floor((performance.now() - this.startedMono) / 1000),
      // How far the daemon's time is ahead of a system clock stepped back (core/clock.ts); 0 normally.
      clock_ahead_ms: daemonClock.ahead(),
      socket: this.settings?.agentSocket ?? null,
      operator_socket: this.paths.operatorSocket,
      http: this.httpUrl() ?? null,
      policy_version: policy?.compiled.policy_version ?? null,
      policy_source: policy?.compiled.source ?? null,
      applied_at: policy?.appliedAt ?? null,
      runtime_mode: this.decisions?.policy.mode ?? this.settings?.mode ?? null,
      dev: this.options.dev !== undefined,
      degraded: this.decisions?.degraded ?? null,
      providers: [...(this.sinks?.statuses() ?? []), ...this.credentialProviders(policy?.compiled.ir, now)],
      // What cannot be delivered is judged with this daemon's environment: apply, run from another
      // shell, would judge with its own.
      alerts: {
        ...(this.alerts?.counts ?? { sent: 0, failed: 0, dropped: 0 }),
        undeliverable: policy && !this.options.dev ? Alerts.problems(notifyTargets(policy.compiled.ir), this.env) : [],
      },
      credentials: this.broker?.statuses() ?? [],
      identity: this.identity?.status() ?? null,
      proxies: {
        ...(this.mcp ? { mcp: { ...this.mcpPorts, relayed_calls: this.mcp.relayedCalls } } : {}),
        // CONNECT tunnels are not inspected: request-level rules and credential injection apply to plain HTTP only.
        ...(this.httpProxyPorts ? { http: { ...this.httpProxyPorts, https: this.httpsMode } } : {}),
        ...(policy?.reverse && this.httpUrl()
          ? {
              reverse: {
                url: this.httpUrl(),
                upstream: policy.reverse.upstream.href,
                // The operations that name a tool: one without an operationId only holds its path.
                routes: policy.reverse.table.routes.filter((r) => !unnamed(r)).length,
                agent: policy.reverse.agent ?? null,
              },
            }
          : {}),
      },
      os_tier: { profile: policy && sandboxed(policy.compiled.ir) ? (policy.compiled.ir.runtime.agent_enforce_profile ?? 'full') : 'off' },
      supervisor: this.supervisor?.list() ?? [],
      wal: {
        path: this.settings?.walDir ?? null,
        records: this.log?.size ?? 0,
        ...(this.archived ? { archived: this.archived } : {}),
        ...(policy?.walRetentionMs !== undefined ? { retention_s: policy.walRetentionMs / 1000 } : {}),
      },
      signing: this.signing
        ? {
            ...describeSigner(this.signing),
            ...(this.log?.lastCheckpointError ? { last_error: this.log.lastCheckpointError.message } : {}),
          }
        : null,
      decisions: this.decisions?.counts ?? { permit: 0, deny: 0, defer: 0 },
      decisions_not_enforced: this.decisions?.notEnforced ?? { deny: 0, defer: 0 },
      budgets:
        policy && this.engineState ? policy.compiled.ir.agents.flatMap((a) => budgetUsage(a.id, a.budgets, this.engineState!, now)) : [],
      // Where each phase stands on the daemon's clock, as the rule stage reads it: active until, ended at.
      phases:
        policy && this.engineState
          ? policy.compiled.ir.agents.flatMap((a) =>
              phaseSchedule(a.phases, this.engineState!.policy_applied_ms, now).map((p, i) => ({
                agent: a.id,
                name: p.name,
                state: p.state,
                ...(a.phases[i]!.next !== undefined ? { next: a.phases[i]!.next } : {}),
                ...(p.starts_ms !== undefined ? { starts_at: new Date(p.starts_ms).toISOString() } : {}),
                ...(p.ends_ms !== undefined ? { ends_at: new Date(p.ends_ms).toISOString() } : {}),
              })),
            )
          : [],
      approvals: { pending: pending.length, oldest_age_seconds: oldest === undefined ? null : Math.floor((now - oldest) / 1000) },
    };
  }

  /** The policy's credential providers as `status` lists them beside the sinks. */
  private credentialProviders(ir: PolicyIR | undefined, now: number): object[] {
    if (!ir || !this.broker) return [];
    const stats = new Map(this.broker.statuses().map((s) => [s.provider, s]));
    return ir.providers.flatMap((p) => {
      const s = stats.get(p.name);
      if (!s) return [];
      return [
        {
          name: p.name,
          type: p.type,
          kind: 'credentials',
          status: s.status,
          ...(s.last_probe_at ? { last_probe_seconds_ago: Math.max(0, Math.floor((now - Date.parse(s.last_probe_at)) / 1000)) } : {}),
          ...(s.status !== 'HEALTHY' && s.last_error ? { last_error: s.last_error } : {}),
        },
      ];
    });
  }

  /** Once a second: say when the system clock stepped back, expire approvals, snapshot the state when due, apply `wal_retention` when due. */
  private async tick(): Promise<void> {
    this.sayClockNews();
    await this.restoreSockets();
    const now = daemonNow();
    // The record that found the log failed may be the daemon's own (an operator's approve, a quiesce),
    // not a call's: the daemon is degraded all the same. Unmarked, it would say it is healthy and
    // never resume, and every approve would be refused after the disk had room, until some agent called.
    const failure = this.log?.failure;
    if (failure !== undefined && this.decisions && this.decisions.degraded === undefined) this.decisions.degraded = failure;
    if (this.decisions?.degraded !== undefined && now >= this.resumeDueMs && this.lifecycle.state === 'READY') {
      this.resumeDueMs = now + RESUME_EVERY_MS;
      resumeLog({
        log: this.log!,
        decisions: this.decisions,
        state: this.engineState!,
        rebuild: () => restoreState(this.paths.state, this.settings!.walDir, this.log!.size, this.seal!),
        say: this.say,
      });
    }
    if (now >= this.reprobeDueMs && this.lifecycle.state === 'READY' && this.decisions) {
      this.reprobeDueMs = now + REPROBE_EVERY_MS;
      void this.broker?.probe(this.decisions.policy.compiled.ir, true);
    }
    // Before a snapshot: what can no longer change a decision is neither kept nor written, month after month.
    if (now >= this.pruneDueMs && this.engineState) {
      this.pruneDueMs = now + PRUNE_EVERY_MS;
      pruneState(this.engineState, now);
    }
    if (this.endedSessions.size > 0 && this.engineState) {
      const ended = this.endedSessions;
      dropSessions(this.engineState, (id) => ended.has(id));
      ended.clear();
    }
    if (this.snapshots?.due(now) && this.lifecycle.state === 'READY')
      void this.snapshots.take(now).catch((e: Error) => this.say(`could not snapshot the state: ${e.message}`));
    const retention = this.decisions?.policy.walRetentionMs;
    if (retention !== undefined && now >= this.retentionDueMs && this.lifecycle.state === 'READY') {
      this.retentionDueMs = now + RETENTION_EVERY_MS;
      void this.compact(retention, 'wal_retention').then(
        (done) => {
          if (done.records > 0) this.say(`wal_retention: ${done.records} records compacted into ${done.archive}`);
          if (done.held_by)
            this.say(
              `wal_retention: sealed segments from record ${done.held} on stay live: sink ${done.held_by.join(', ')} has not shipped them`,
            );
        },
        (e: Error) => this.say(`wal_retention: the log was not compacted: ${e.message}`),
      );
    }
    await this.sweepApprovals();
  }

  /** A socket file removed while the daemon runs is made again (the agent socket only while READY). */
  private async restoreSockets(): Promise<void> {
    const servers = this.lifecycle.state === 'READY' && this.agentServer ? [this.operatorServer, this.agentServer] : [this.operatorServer];
    for (const server of servers)
      await server.restore().then(
        (again) => again && this.say(`${server.bound} was removed while the daemon ran: listening there again`),
        (e: Error) => this.say(`${server.bound} was removed while the daemon ran and could not be made again: ${e.message}`),
      );
  }

  private sayClockNews(): void {
    const news = daemonClock.news();
    if (news) this.say(news);
  }

  /** Compact the log's sealed segments older than `olderThanMs` (see core/log-retention.ts). */
  private async compact(olderThanMs: number, by: string, archiveDir?: string): ReturnType<typeof compactLog> {
    if (!this.log || !this.snapshots) throw new Error(`the daemon is ${this.lifecycle.state}`);
    const done = await compactLog({
      log: this.log,
      snapshots: this.snapshots,
      stateDir: this.paths.state,
      ...(this.sinks ? { sinks: this.sinks.shipping() } : {}),
      olderThanMs,
      nowMs: daemonNow(),
      archiveDir: archiveDir ?? this.settings!.walArchiveDir,
      by,
    });
    this.archived = done.size;
    return done;
  }

  /** `alert { on = "approved" }` of the approval's agent, once the approval is recorded. */
  private alertApproved(a: Approval, by: string, reason: string | undefined): void {
    const compiled = this.decisions?.policy.compiled;
    const fired = compiled?.ir.agents.find((g) => g.id === a.agent_id)?.alerts.filter((x) => x.on === 'approved') ?? [];
    if (fired.length === 0 || !compiled) return;
    this.alerts?.fire(
      fired.map(({ on, notify }) => ({ on, notify })),
      {
        agent_id: a.agent_id,
        tool: a.tool,
        effect: 'approved',
        message: `approved by ${by}${reason ? `: ${reason}` : ''} (${a.id}); the identical call runs once`,
        ...(a.rule_ref ? { rule_ref: a.rule_ref } : {}),
        action_id: a.action_id,
        time: new Date(daemonNow()).toISOString(),
        policy_version: compiled.policy_version,
      },
    );
  }

  /**
   * Operators' resolutions the book holds and the log may not (the daemon stopped between saving one
   * and recording it): recorded now, before the agent socket opens, so that no call runs under an
   * approval the log does not hold. One that was recorded after all is recorded twice, which is harmless.
   */
  private async recordResolutions(log: AuditLog): Promise<void> {
    const unrecorded = this.approvals!.unrecordedResolutions();
    if (unrecorded.length === 0) return;
    await Promise.all(
      unrecorded.map((a) =>
        log.append({
          type: 'approval_resolved',
          agent_id: a.agent_id,
          action_id: a.action_id,
          approval_id: a.id,
          outcome: a.lapsed ?? (a.status === 'denied' ? 'denied' : 'approved'),
          by: a.resolved_by ?? 'operator',
          ...(a.resolution_reason ? { reason: a.resolution_reason } : {}),
        }),
      ),
    );
    unrecorded.forEach((a) => this.approvals!.resolutionRecorded(a));
    this.say(`recorded ${unrecorded.length} approval resolution(s) saved before a stop that came before their record`);
    try {
      this.writeApprovals();
    } catch (e) {
      // Recorded all the same; the next save of the book clears the marks (a restart before it records them again).
      this.say(`could not save the approvals: ${(e as Error).message}`);
    }
  }

  /** `stopping`: the drain's last sweep, so that an expiry noticed in the last second is recorded before the stop. */
  private async sweepApprovals(stopping = false): Promise<void> {
    if (!this.approvals || !this.log || (this.lifecycle.state !== 'READY' && !stopping)) return;
    // A failed log refuses every append until it resumes: the expiries wait for it (in the book's queue).
    if (this.decisions?.degraded !== undefined && !stopping) return;
    const expired = this.approvals.takeExpired(daemonNow());
    if (expired.length === 0) return;
    const records: RecordInput[] = expired.map((a) => ({
      type: 'approval_resolved',
      agent_id: a.agent_id,
      action_id: a.action_id,
      approval_id: a.id,
      outcome: 'expired',
      by: 'ttl',
    }));
    // Recorded, then saved as recorded. An expiry the book was saved with before its record (a call
    // noticed it first) keeps `expiry_unrecorded` until then, so a stop or crash in between records it
    // at the next start instead of never.
    const unrecorded: Approval[] = [];
    let why = '';
    await Promise.all(
      records.map((r, i) =>
        this.log!.append(r).then(
          () => this.approvals!.recorded(expired[i]!),
          (e: Error) => {
            unrecorded.push(expired[i]!);
            why = e.message;
          },
        ),
      ),
    );
    if (unrecorded.length > 0) {
      // Tried again once the log resumes: dropped here, they would reach the log only at a restart.
      this.approvals.notRecorded(unrecorded);
      this.say(`could not record expiries: ${why}`);
    }
    try {
      this.writeApprovals();
    } catch (e) {
      // Expired in memory all the same (nothing can run under them); the next save writes the book.
      this.say(`could not save the approvals after expiring ${expired.length}: ${(e as Error).message}`);
    }
  }

  private readApprovals(): Approval[] {
    const approvals = this.readState<{ approvals?: Approval[] }>('approvals.json').approvals;
    return Array.isArray(approvals) ? approvals : [];
  }

  private writeApprovals(): void {
    this.approvals!.prune(daemonNow(), 7 * 86_400_000, 3_600_000);
    this.writeState('approvals.json', { approvals: this.approvals!.toJSON() });
  }

  /** A sealed JSON file of `.faramesh/state/` (empty when absent; throws when its seal does not verify). */
  private readState<T extends object>(name: string): Partial<T> {
    const value = this.seal!.read(this.paths.state, name);
    return typeof value === 'object' && value !== null ? (value as Partial<T>) : {};
  }

  /** Replace a state file durably, sealed, before anything that depends on it is acknowledged. */
  private writeState(name: string, value: object): Promise<unknown> | undefined {
    return this.seal!.write(this.paths.state, name, value);
  }
}

/** An approval as the operator sees it (the call binding stays inside the daemon). */
function publicApproval(a: Approval): Omit<Approval, 'binding'> {
  const { binding: _binding, expiry_unrecorded: _unrecorded, top_level: _topLevel, resolution_unrecorded: _unresolved, ...rest } = a;
  // The action id as every other surface writes it (the SDK, audit ls, explain run).
  return { ...rest, action_id: `action-${a.action_id}` };
}

/** Whether agents of this policy run in the OS sandbox (which reaches the daemon through mirrors). */
function sandboxed(ir: PolicyIR): boolean {
  return ir.runtime.os_tier === true && ir.runtime.agent_enforce_profile !== 'off';
}

/** An HTTP API body naming no agent is the agent token's: the token fixes the agent. */
function withTokenAgent(body: unknown, agent: string | undefined): unknown {
  const claimed = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
  return agent && claimed && claimed.agent_id === undefined ? { ...claimed, agent_id: agent } : body;
}

/** A body claiming another agent than its token's is refused. */
function otherAgent(agent: string | undefined, claimed: string): { status: number; body: unknown } | undefined {
  return agent && claimed !== agent ? httpError(403, 'forbidden', `this token speaks for agent ${agent}, not ${claimed}`) : undefined;
}

const httpError = (status: number, code: string, message: string) => ({ status, body: { error: { code, message } } });

/** What the agent launcher, agent.env and sandbox plan are written from: the runtime settings and each agent's enforcement. */
function agentFacing(ir: PolicyIR): string {
  return canonicalJson({ runtime: ir.runtime, agents: ir.agents.map((a) => ({ id: a.id, enforcement: a.enforcement ?? null })) });
}

/** Every agent's phases, without source positions: what decides which phase is in force when. */
function phasesOf(ir: PolicyIR): string {
  const strip = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(strip)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v)
              .filter(([k]) => k !== 'ref')
              .map(([k, x]) => [k, strip(x)]),
          )
        : v;
  // Only the agents that have phases, by id: an agent added, removed or moved that has none changes no phase.
  const phased = ir.agents.filter((a) => a.phases.length > 0).map((a) => [a.id, a.phases] as const);
  return canonicalJson(strip(phased.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}
