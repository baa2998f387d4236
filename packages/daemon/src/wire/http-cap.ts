/**
 * The connection cap of an HTTP or HTTPS listener, with room made at the cap as on the agent socket
 * (see LineServer's `evict`). Node's `server.maxConnections` only drops newcomers: one client holding
 * the cap with connections that never finish their headers (reconnecting as each is cut) would lock
 * every other client out. Here a newcomer at the cap takes the place of a connection that serves no
 * request instead, and is refused only when every connection is busy.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

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
}

/**
 * Hold `server` to `max` connections. At the cap a newcomer takes the place of the oldest connection
 * still sending its request (a TLS handshake, headers, or a body) after STALLING_MS, else of the
 * keep-alive connection idle longest, else of the oldest one still sending at all; only when every
 * connection is serving a request is the newcomer closed. Works for `http` and `https` servers alike:
 * 'connection' gives the TCP socket of either, 'secureConnection' the TLS socket requests come on.
 */
export function capConnections(server: Server, max: number): void {
  /** Open connections by their TCP socket, oldest first. */
  const conns = new Map<Socket, Conn>();
  /** Connections with no request in flight after serving one, idle longest first. */
  const idle = new Set<Conn>();
  /** TLS sockets' connections, and handshaking TCP sockets by their peer (the TLS socket's only public link to them). */
  const byWire = new WeakMap<Socket, Conn>();
  const byPeer = new Map<string, Conn>();
  const peer = (s: Socket) => `${s.remoteAddress}|${s.remotePort}`;

  const forget = (c: Conn) => {
    conns.delete(c.tcp);
    idle.delete(c);
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
    const c: Conn = { tcp, wire: tcp, since: performance.now(), served: false, open: new Map() };
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
      if (c.open.size === 0 && conns.has(c.tcp)) idle.add(c);
    });
  });
}
