/**
 * A small load balancer for the fault test (not a test file itself), doing what the README's
 * HAProxy config does, so the suite needs no HAProxy: each connection goes to the node that
 * consistent hashing of its first request's room path (`/parties/:party/:room`, HAProxy's
 * `balance uri depth 3` + `hash-type consistent`) picks among the nodes whose `/readyz`
 * answered lately (`option httpchk GET /readyz`, `fall 2 rise 2`); a connect that fails goes to
 * the next node in hash order (`option redispatch`); the node is told which server was picked in
 * `x-lb-server` (`http-send-name-header`), so a room can say whether the request reached its
 * owner directly. One client connection, one node: clients open a connection per request.
 * Listens on 127.0.0.1 only.
 */
import { createHash } from "node:crypto";
import net from "node:net";

export interface Backend {
  /** Server name (what `x-lb-server` carries). */
  readonly name: string;
  readonly port: number;
  /** Where `/readyz` answers. */
  readonly adminPort: number;
}

const CHECK_EVERY_MS = 200;
const CHECK_TIMEOUT_MS = 400;
/** Consecutive results that change a server's state (HAProxy: fall, rise). */
const FALL = 2;
const RISE = 2;
/** A first request line longer than this is not HTTP we route. */
const MAX_HEAD_BYTES = 16 * 1024;

interface State {
  up: boolean;
  streak: number;
}

export class Balancer {
  readonly port: number;
  /** Connections handed to each server, by name. */
  readonly picks = new Map<string, number>();
  private readonly state = new Map<string, State>();
  private readonly sockets = new Set<net.Socket>();
  private checker: NodeJS.Timeout | undefined;
  private checking = false;

  private constructor(
    private readonly server: net.Server,
    private readonly backends: readonly Backend[],
  ) {
    this.port = (server.address() as net.AddressInfo).port;
    for (const backend of backends) this.state.set(backend.name, { up: true, streak: 0 });
    this.checker = setInterval(() => void this.check(), CHECK_EVERY_MS);
    this.checker.unref();
  }

  static async start(backends: readonly Backend[]): Promise<Balancer> {
    let balancer: Balancer | undefined;
    const server = net.createServer((client) => balancer!.accept(client));
    await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", () => resolve()));
    server.unref();
    balancer = new Balancer(server, backends);
    return balancer;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Names of the servers the health checks consider up. */
  get up(): string[] {
    return this.backends.filter((backend) => this.state.get(backend.name)!.up).map((backend) => backend.name);
  }

  async close(): Promise<void> {
    clearInterval(this.checker);
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Servers in hash order for this path: the healthy ones first (HAProxy falls back to any when none is). */
  order(path: string): Backend[] {
    const key = roomPath(path);
    const ranked = [...this.backends].sort((a, b) => score(b.name, key) - score(a.name, key));
    return [...ranked.filter((b) => this.state.get(b.name)!.up), ...ranked.filter((b) => !this.state.get(b.name)!.up)];
  }

  private accept(client: net.Socket): void {
    this.track(client);
    let head = Buffer.alloc(0);
    client.on("error", () => client.destroy());
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const lineEnd = head.indexOf("\r\n");
      if (lineEnd < 0) {
        if (head.length > MAX_HEAD_BYTES) client.destroy();
        return;
      }
      client.off("data", onData);
      client.pause();
      const target = head.subarray(0, lineEnd).toString("latin1").split(" ")[1] ?? "/";
      void this.connect(client, this.order(target), head, lineEnd);
    };
    client.on("data", onData);
  }

  /** Tries the servers in order; the first that accepts gets the request, with `x-lb-server` after its request line. */
  private async connect(client: net.Socket, candidates: Backend[], head: Buffer, lineEnd: number): Promise<void> {
    for (const backend of candidates) {
      if (client.destroyed) return;
      const upstream = await opened(backend.port);
      if (upstream === undefined) continue;
      this.track(upstream);
      this.picks.set(backend.name, (this.picks.get(backend.name) ?? 0) + 1);
      upstream.write(Buffer.concat([head.subarray(0, lineEnd + 2), Buffer.from(`x-lb-server: ${backend.name}\r\n`), head.subarray(lineEnd + 2)]));
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      upstream.on("error", end).on("close", end);
      client.on("close", end);
      client.pipe(upstream).pipe(client);
      client.resume();
      return;
    }
    client.destroy();
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
  }

  private async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      await Promise.all(
        this.backends.map(async (backend) => {
          const ok = await fetch(`http://127.0.0.1:${backend.adminPort}/readyz`, { signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) })
            .then(async (response) => (await response.arrayBuffer(), response.status === 200))
            .catch(() => false);
          const state = this.state.get(backend.name)!;
          if (ok === state.up) state.streak = 0;
          else if (++state.streak >= (ok ? RISE : FALL)) {
            state.up = ok;
            state.streak = 0;
          }
        }),
      );
    } finally {
      this.checking = false;
    }
  }
}

/** `/parties/:party/:room` of a request target (HAProxy's `uri depth 3`, without the query). */
export function roomPath(target: string): string {
  return target.split("?")[0]!.split("/").slice(0, 4).join("/");
}

function score(name: string, key: string): number {
  return createHash("sha256").update(name).update("\0").update(key).digest().readUInt32BE(0);
}

function opened(port: number): Promise<net.Socket | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    // A stopped node still accepts (the kernel does); only a refused or dead port fails here.
    const timer = setTimeout(() => (socket.destroy(), resolve(undefined)), 1_000);
    socket.once("connect", () => (clearTimeout(timer), resolve(socket)));
    socket.once("error", () => (clearTimeout(timer), resolve(undefined)));
  });
}
