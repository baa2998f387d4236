/**
 * The connection cap of an HTTP or HTTPS listener, with room made at the cap as on the agent socket
 * (see LineServer's `evict`). Node's `server.maxConnections` only drops newcomers: one client holding
 * the cap with connections that never finish their headers (reconnecting as each is cut) would lock
 * every other client out. Here a newcomer at the cap takes the place of a connection that serves no
 * request instead, and is refused only when every connection is busy. On a listener several agents
 * share, one agent may keep only a share of the connections busy (`admit`): its requests and
 * tunnels, which are never evicted, could otherwise fill the cap as surely.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { ORIGIN_SHARE } from './line-server.js';

/** Sending a request (headers, TLS handshake, body) for longer than this is stalling: an honest client sends at once. */
const STALLING_MS = 1000;

interface Conn {
  readonly tcp: Socket;
  /** The socket requests arrive on: the TLS socket over `tcp` once its handshake is done. */
  wire: Socket;
  /** Since when it has been connected. */
  readonly since: number;
  /** Whether a request has arrived on it (afterwards, with none in flight, it is an idle keep-alive). */
  served: boolean;
  /** Requests whose response has not finished, each with when it arrived. */
  readonly open: Map<IncomingMessage, number>;
  /** A CONNECT tunnel or an upgrade took the socket over (see `hold`): busy until it closes. */
  tunnel: boolean;
  /** The agent its requests were admitted for (see `admit`), while it is busy. */
  agent?: string;
}

/** Why `admit` refused a request of `agent`. */
export const overShare = (agent: string) =>
  `agent ${agent} keeps its share of this listener's connections busy with requests or tunnels: retry shortly`;

/** Whether a request may keep one more of the listener's connections busy for its agent (see ConnectionCap). */
export type Admit = (req: IncomingMessage, agent: string) => boolean;

/** A capped listener's hold on its connections. */
export interface ConnectionCap {
  /**
   * Count `req`'s connection as `agent`'s while it is busy (its requests unanswered, or a tunnel
   * open), unless `agent` already keeps its share of the cap busy on other connections: then false,
   * and the caller refuses the request. For listeners several agents share.
   */
  admit: Admit;
  /**
   * `socket` was handed to a 'connect' (or 'upgrade') listener, which now serves it: busy, never
   * evicted, until it closes. (Not done by listening for 'connect' here: Node closes CONNECT requests
   * only on servers with no such listener.)
   */
  hold(socket: Duplex): void;
}

/**
 * Hold `server` to `max` connections. At the cap a newcomer takes the place of the oldest connection
 * still sending its request (a TLS handshake, headers, or a body) after STALLING_MS, else of the
 * keep-alive connection idle longest, else of the oldest one still sending at all; only when every
 * connection is serving a request is the newcomer closed. Works for `http` and `https` servers alike:
 * 'connection' gives the TCP socket of either, 'secureConnection' the TLS socket requests come on.
 */
export function capConnections(server: Server, max: number): ConnectionCap {
  /** Open connections by their TCP socket, oldest first. */
  const conns = new Map<Socket, Conn>();
  /** Connections with no request in flight after serving one, idle longest first. */
  const idle = new Set<Conn>();
  /** TLS sockets' connections, and handshaking TCP sockets by their peer (the TLS socket's only public link to them). */
  const byWire = new WeakMap<Socket, Conn>();
  const byPeer = new Map<string, Conn>();
  const peer = (s: Socket) => `${s.remoteAddress}|${s.remotePort}`;
  /** Busy connections by the agent they were admitted for. */
  const byAgent = new Map<string, Set<Conn>>();
  const share = Math.max(1, Math.floor(max / ORIGIN_SHARE));

  const release = (c: Conn) => {
    if (c.agent === undefined) return;
    const mine = byAgent.get(c.agent);
    mine?.delete(c);
    if (mine?.size === 0) byAgent.delete(c.agent);
    c.agent = undefined;
  };
  const forget = (c: Conn) => {
    conns.delete(c.tcp);
    idle.delete(c);
    release(c);
    if (byPeer.get(peer(c.tcp)) === c) byPeer.delete(peer(c.tcp));
  };
  const drop = (c: Conn) => {
    // No longer counted from now: its descriptor is wanted back for the newcomer.
    forget(c);
    c.wire.destroy();
    c.tcp.destroy();
    return true;
  };
  const evict = (): boolean => {
    const now = performance.now();
    let young: Conn | undefined;
    // Maps iterate in insertion order: the first match is the oldest connection.
    for (const c of conns.values()) {
      if (c.tunnel) continue;
      if (c.open.size === 0) {
        if (c.served) continue;
        if (now - c.since >= STALLING_MS) return drop(c);
        young ??= c;
        continue;
      }
      // A body still arriving after STALLING_MS is a stalled sender, not a request being served.
      for (const [req, at] of c.open) if (!req.complete && now - at >= STALLING_MS) return drop(c);
    }
    for (const c of idle) return drop(c);
    return young !== undefined && drop(young);
  };

  server.on('connection', (tcp: Socket) => {
    if (conns.size >= max && !evict()) return void tcp.destroy();
    const c: Conn = { tcp, wire: tcp, since: performance.now(), served: false, open: new Map(), tunnel: false };
    conns.set(tcp, c);
    byWire.set(tcp, c);
    if (tcp.remoteAddress !== undefined) byPeer.set(peer(tcp), c);
    tcp.once('close', () => forget(c));
  });
  server.on('secureConnection', (wire: Socket) => {
    const c = byPeer.get(peer(wire));
    if (c === undefined) return void wire.destroy();
    byPeer.delete(peer(wire));
    c.wire = wire;
    byWire.set(wire, c);
    wire.once('close', () => forget(c));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const c = byWire.get(req.socket);
    // Dropped meanwhile (evicted): its socket is closing.
    if (c === undefined || !conns.has(c.tcp)) return;
    c.served = true;
    idle.delete(c);
    c.open.set(req, performance.now());
    res.once('close', () => {
      c.open.delete(req);
      if (c.open.size > 0 || !conns.has(c.tcp)) return;
      idle.add(c);
      release(c);
    });
  });
  return {
    hold(socket) {
      const c = byWire.get(socket as Socket);
      if (c === undefined || !conns.has(c.tcp)) return;
      c.served = true;
      c.tunnel = true;
      idle.delete(c);
    },
    admit: (req, agent) => {
      const c = byWire.get(req.socket);
      if (c === undefined || !conns.has(c.tcp)) return true;
      if (c.agent === agent) return true;
      const mine = byAgent.get(agent);
      if ((mine?.size ?? 0) >= share) return false;
      release(c);
      c.agent = agent;
      if (mine) mine.add(c);
      else byAgent.set(agent, new Set([c]));
      return true;
    },
  };
}
