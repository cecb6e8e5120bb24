/**
 * The edge's end of a peer link: opened on first use with an HTTP upgrade that carries the
 * cluster secret, then shared by every request this node forwards to that peer. A request is
 * one frame; its answer comes back as a LinkedResponse, whole or streamed.
 */
import { request as httpRequest, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Readable } from "node:stream";
import { INTERNAL_HEADER, isHopHeader, MOVED_HEADER } from "../server/internal-auth.js";
import { PEER_LINK_UPGRADE, PEER_TLS_UPGRADE } from "../server/room-router.js";
import { startTls, type PeerTls } from "./peer-tls.js";
import { SlotTable } from "../server/slot-table.js";
import { LinkConnection } from "./link-connection.js";
import { LinkStream } from "./link-stream.js";
import { decodeMeta, encodeFrame, encodeMetaFrame, FrameType, MAX_CHUNK_BYTES, type Frame } from "./link-frames.js";
import type { RequestMeta, ResponseMeta } from "./link-owner.js";

/** How long opening a link may take before the peer counts as unreachable. */
const CONNECT_TIMEOUT_MS = 5_000;
/** Above this many body bytes buffered for a slow consumer, the owner is asked to pause. */
const STREAM_HIGH_WATER_BYTES = 1024 * 1024;

type Unreachable = { readonly kind: "unreachable"; readonly error: Error };
export type LinkAnswer = { readonly kind: "response"; readonly response: LinkedResponse } | Unreachable;

interface BodyConsumer {
  data(chunk: Buffer): void;
  end(): void;
  error(error: Error): void;
}

/**
 * The owner's answer. `body` is set when it came whole; otherwise chunks follow and are held
 * until `consume()` attaches a reader (a whole answer that arrived in one read counts as whole).
 */
export class LinkedResponse {
  private held: Buffer[] = [];
  private heldBytes = 0;
  private ended = false;
  private cancelled = false;
  private failure: Error | undefined;
  private consumer: BodyConsumer | undefined;
  private paused = false;

  constructor(
    readonly head: ResponseMeta,
    public body: Buffer | undefined,
    private readonly control: (type: typeof FrameType.Pause | typeof FrameType.Resume | typeof FrameType.Cancel) => void,
  ) {}

  /** The whole body, if it is all here already. */
  get complete(): Buffer | undefined {
    if (this.body !== undefined) return this.body;
    if (!this.ended || this.failure !== undefined || this.consumer !== undefined) return undefined;
    return (this.body = this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held));
  }

  /** Delivers the body to `consumer`: what is held now, then the rest as it comes. */
  consume(consumer: BodyConsumer): void {
    this.consumer = consumer;
    for (const chunk of this.held) consumer.data(chunk);
    this.held = [];
    this.heldBytes = 0;
    if (this.failure) consumer.error(this.failure);
    else if (this.ended) consumer.end();
  }

  pause(): void {
    if (this.paused || this.ended || this.cancelled) return;
    this.paused = true;
    this.control(FrameType.Pause);
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.control(FrameType.Resume);
  }

  /** The client went away: the owner stops producing. */
  cancel(): void {
    if (this.ended || this.cancelled) return;
    this.cancelled = true;
    this.held = [];
    this.control(FrameType.Cancel);
  }

  /** @internal frames from the link */
  chunk(data: Buffer): void {
    if (this.cancelled) return;
    if (this.consumer) return this.consumer.data(data);
    this.held.push(data);
    this.heldBytes += data.length;
    if (this.heldBytes > STREAM_HIGH_WATER_BYTES) this.pause();
  }

  /** @internal */
  finish(error?: Error): void {
    if (this.ended || this.cancelled) return;
    this.ended = true;
    this.failure = error;
    if (!this.consumer) return;
    if (error) this.consumer.error(error);
    else this.consumer.end();
  }
}

interface Pending {
  /** Its stream id on the link (requestStreamId). */
  stream: number;
  resolve(answer: LinkAnswer): void;
  response?: LinkedResponse;
  /** A streamed request body still going out. */
  upload?: Upload;
}

/**
 * A streamed request body going out as Body frames, then End (or Error if its source fails),
 * read only as fast as the owner takes it (its Pause / Resume) and the link drains. Stopped
 * when the owner's answer is complete or it cancels: the rest is read and dropped, so the
 * client's connection stays usable for the answer.
 */
class Upload {
  private paused = false;
  private stopped = false;

  constructor(
    private readonly source: Readable,
    private readonly connection: LinkConnection,
    private readonly stream: number,
  ) {
    source.on("data", (chunk: Buffer | Uint8Array) => this.send(chunk));
    source.on("end", () => {
      if (!this.stopped) connection.send(encodeFrame(FrameType.End, stream));
      this.stopped = true;
    });
    source.on("error", (error) => this.fail(error));
    // The client may have gone while the link was connecting: its 'error' is not emitted again.
    if (source.errored !== null || (source.destroyed && !source.readableEnded)) this.fail(source.errored ?? new Error("the client went away"));
  }

  private fail(error: Error): void {
    if (!this.stopped) this.connection.send(encodeFrame(FrameType.Error, this.stream, Buffer.from(error.message)));
    this.stopped = true;
  }

  pause(): void {
    this.paused = true;
    this.source.pause();
  }

  resume(): void {
    this.paused = false;
    if (!this.stopped && !this.connection.congested) this.source.resume();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.source.resume();
  }

  private send(chunk: Buffer | Uint8Array): void {
    if (this.stopped) return;
    for (let at = 0; at < chunk.byteLength; at += MAX_CHUNK_BYTES) {
      this.connection.send(encodeFrame(FrameType.Body, this.stream, chunk.subarray(at, at + MAX_CHUNK_BYTES)));
    }
    if (!this.connection.congested) return;
    this.source.pause();
    void this.connection.drained().then(() => {
      if (!this.paused) this.resume();
    });
  }
}

/**
 * A forwarded request's stream id carries the slot of its entry in `pending`, so finding the
 * entry needs no Map (see slot-table.ts for why a Map churned per request costs so much), plus
 * a round number that differs between two requests that use the same slot one after the other,
 * and the top bit, which virtual connections' ids (a counter below it) never have.
 */
const REQUEST_STREAM = 0x8000_0000;
const SLOT_BITS = 20;
const SLOT_MASK = (1 << SLOT_BITS) - 1;
const ROUND_MASK = 0x7ff;
const LAST_CONNECTION_STREAM = REQUEST_STREAM - 16;

function requestStreamId(slot: number, round: number): number {
  if (slot > SLOT_MASK) throw new Error(`more than ${SLOT_MASK + 1} requests waiting on one peer link`);
  return (REQUEST_STREAM | ((round & ROUND_MASK) << SLOT_BITS) | slot) >>> 0;
}

export class EdgeLink {
  private connection: LinkConnection | undefined;
  private opening: Promise<LinkConnection> | undefined;
  /** Forwarded requests waiting for (the rest of) their answer. */
  private readonly pending = new SlotTable<Pending>();
  private round = 0;
  /** Virtual connections, by stream id: few, and open for as long as their WebSocket. */
  private readonly streams = new Map<number, LinkStream>();
  private nextStream = 1;

  constructor(
    private readonly address: string,
    private readonly secret: string,
    /** Mutual TLS between nodes: the connection turns to TLS before the secret is sent. */
    private readonly tls?: PeerTls,
  ) {}

  /**
   * Sends one request; resolves with the owner's head (and body, when whole) or "unreachable".
   * A body given as a stream (`meta.streamed`) follows the request frame in Body frames.
   */
  async request(meta: RequestMeta, body: Buffer | Readable | undefined): Promise<LinkAnswer> {
    const connection = await this.connected();
    if (!(connection instanceof LinkConnection)) return connection;
    return new Promise((resolve) => {
      const pending: Pending = { stream: 0, resolve };
      pending.stream = requestStreamId(this.pending.add(pending), this.round);
      this.round = (this.round + 1) & ROUND_MASK;
      const whole = Buffer.isBuffer(body) ? body : undefined;
      connection.send(encodeMetaFrame(FrameType.Request, pending.stream, meta, whole));
      if (body !== undefined && !Buffer.isBuffer(body)) pending.upload = new Upload(body, connection, pending.stream);
    });
  }

  /** Opens a virtual connection to the peer's HTTP server (a proxied WebSocket runs over it). */
  async openStream(): Promise<LinkStream | Unreachable> {
    const connection = await this.connected();
    if (!(connection instanceof LinkConnection)) return connection;
    const stream = new LinkStream(connection, this.allocateConnectionStream(), (gone) => this.streams.delete(gone.id));
    this.streams.set(stream.id, stream);
    connection.send(encodeFrame(FrameType.StreamOpen, stream.id));
    return stream;
  }

  close(): void {
    this.connection?.close();
  }

  private allocateConnectionStream(): number {
    const id = this.nextStream;
    this.nextStream = this.nextStream >= LAST_CONNECTION_STREAM ? 1 : this.nextStream + 1;
    return id;
  }

  /** The request waiting on `stream`, if one still is. */
  private pendingOn(stream: number): Pending | undefined {
    if ((stream & REQUEST_STREAM) === 0) return undefined;
    const pending = this.pending.get(stream & SLOT_MASK);
    return pending?.stream === stream ? pending : undefined;
  }

  /**
   * Forgets the request on `stream` (a later request in the same slot is left alone); its
   * answer is complete, so what is left of a streamed body is not sent.
   */
  private settled(stream: number): void {
    const pending = this.pendingOn(stream);
    if (pending === undefined) return;
    pending.upload?.stop();
    this.pending.delete(stream & SLOT_MASK);
  }

  /** The open link, opened now if need be, or why the peer cannot be reached. */
  private async connected(): Promise<LinkConnection | Unreachable> {
    if (this.connection?.isOpen) return this.connection;
    try {
      return await this.open();
    } catch (error) {
      return { kind: "unreachable", error: error as Error };
    }
  }

  private open(): Promise<LinkConnection> {
    this.opening ??= connect(this.address, this.secret, this.tls).then(
      ({ socket, head }) => {
        this.opening = undefined;
        const connection = new LinkConnection(socket, head, (frame) => this.receive(connection, frame), (error) => this.lost(connection, error));
        this.connection = connection;
        return connection;
      },
      (error: unknown) => {
        this.opening = undefined;
        throw error;
      },
    );
    return this.opening;
  }

  private receive(connection: LinkConnection, frame: Frame): void {
    const pending = this.pendingOn(frame.stream);
    if (!pending) return this.streams.get(frame.stream)?.received(frame.type, frame.payload);
    switch (frame.type) {
      case FrameType.Response: {
        const { meta, body } = decodeMeta<ResponseMeta>(frame.payload);
        this.settled(frame.stream);
        pending.resolve({ kind: "response", response: new LinkedResponse(meta, body, () => {}) });
        return;
      }
      case FrameType.Head: {
        const { meta } = decodeMeta<ResponseMeta>(frame.payload);
        const response = new LinkedResponse(meta, undefined, (type) => {
          if (type === FrameType.Cancel) this.settled(frame.stream);
          connection.send(encodeFrame(type, frame.stream));
        });
        pending.response = response;
        pending.resolve({ kind: "response", response });
        return;
      }
      case FrameType.Body:
        pending.response?.chunk(frame.payload);
        return;
      case FrameType.End:
        this.settled(frame.stream);
        pending.response?.finish();
        return;
      case FrameType.Error:
        this.settled(frame.stream);
        pending.response?.finish(new Error(`the owner's response failed: ${frame.payload.toString()}`));
        return;
      // The owner's flow control of a streamed request body.
      case FrameType.Pause:
        pending.upload?.pause();
        return;
      case FrameType.Resume:
        pending.upload?.resume();
        return;
      case FrameType.Cancel:
        pending.upload?.stop();
        return;
    }
  }

  /** The link broke: requests without an answer yet were never served by this link's end. */
  private lost(connection: LinkConnection, error: Error): void {
    if (this.connection === connection) this.connection = undefined;
    for (const pending of [...this.pending.values()]) {
      this.settled(pending.stream);
      if (pending.response) pending.response.finish(error);
      else pending.resolve({ kind: "unreachable", error });
    }
    for (const stream of this.streams.values()) stream.linkLost(error);
    this.streams.clear();
  }
}

/**
 * Asks the peer to switch a fresh connection to the link protocol; with TLS, to switch it to
 * TLS first (mutual: each side checks the other's certificate against the CA) and then, inside,
 * to the link, so the secret only ever travels encrypted.
 */
async function connect(address: string, secret: string, tls: PeerTls | undefined): Promise<{ socket: Socket; head: Buffer }> {
  if (tls === undefined) return upgrade(address, PEER_LINK_UPGRADE, { [INTERNAL_HEADER]: secret });
  const plain = await upgrade(address, PEER_TLS_UPGRADE, {});
  if (plain.head.length > 0) plain.socket.unshift(plain.head);
  const secure = await withTimeout(startTls(plain.socket, tls), address, plain.socket);
  return upgrade(address, PEER_LINK_UPGRADE, { [INTERNAL_HEADER]: secret }, secure);
}

/** One HTTP upgrade to `protocol`, on a new connection or on `over`. */
function upgrade(address: string, protocol: string, headers: Record<string, string>, over?: Socket): Promise<{ socket: Socket; head: Buffer }> {
  const { host, port } = splitAddress(address);
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host,
      port,
      path: "/",
      headers: { connection: "Upgrade", upgrade: protocol, ...headers },
      // A connection of its own: never a pooled one.
      ...(over ? { createConnection: () => over } : { agent: false }),
    });
    req.setTimeout(CONNECT_TIMEOUT_MS, () => req.destroy(new Error(`no peer link from ${address} in ${CONNECT_TIMEOUT_MS} ms`)));
    req.on("upgrade", (_res, socket: Socket, head: Buffer) => resolve({ socket, head }));
    req.on("response", (res) => {
      res.resume();
      reject(new Error(`${address} refused a peer link: ${res.statusCode}`));
    });
    req.on("error", reject);
    req.end();
  });
}

function withTimeout<T>(work: Promise<T>, address: string, socket: Socket): Promise<T> {
  const timer = setTimeout(() => socket.destroy(new Error(`no TLS handshake with ${address} in ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
  return work.finally(() => clearTimeout(timer));
}

/** Relays the owner's answer to the client: whole in one write when it is, else streamed with backpressure. */
export function relayLinked(response: LinkedResponse, res: ServerResponse, head: boolean): void {
  const { status, statusText } = response.head;
  const headers = clientHeaders(response.head.headers);
  const complete = response.complete;
  if (complete !== undefined || head) {
    const bodyless = head || status === 204 || status === 304;
    if (!bodyless && !hasHeader(headers, "content-length")) headers.push("content-length", String(complete!.length));
    res.writeHead(status, statusText || undefined, headers);
    if (bodyless || complete === undefined) {
      response.cancel();
      return void res.end();
    }
    return void res.end(complete);
  }
  res.writeHead(status, statusText || undefined, headers);
  let finished = false;
  res.on("close", () => {
    if (!finished) response.cancel();
  });
  response.consume({
    data(chunk) {
      if (!res.write(chunk)) {
        response.pause();
        res.once("drain", () => response.resume());
      }
    },
    end() {
      finished = true;
      res.end();
    },
    error() {
      finished = true;
      res.destroy();
    },
  });
}

/** The owner's answer as a web Response, for `stub.fetch()`. */
export function linkedToWebResponse(response: LinkedResponse, method: string): Response {
  const { status, statusText } = response.head;
  const pairs = clientHeaders(response.head.headers);
  const headers = new Headers();
  for (let i = 0; i < pairs.length; i += 2) headers.append(pairs[i]!, pairs[i + 1]!);
  const empty = method === "HEAD" || status === 204 || status === 205 || status === 304;
  const complete = response.complete;
  if (empty || complete !== undefined) {
    if (complete === undefined) response.cancel();
    return new Response(empty ? null : (complete as unknown as BodyInit), { status, statusText, headers });
  }
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        response.consume({
          data(chunk) {
            controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
            if ((controller.desiredSize ?? 0) <= 0) response.pause();
          },
          end: () => controller.close(),
          error: (error) => controller.error(error),
        });
      },
      pull: () => response.resume(),
      cancel: () => response.cancel(),
    },
    { highWaterMark: STREAM_HIGH_WATER_BYTES, size: (chunk) => chunk.byteLength },
  );
  return new Response(body, { status, statusText, headers });
}

/** The owner's headers without those that describe the hop. */
function clientHeaders(pairs: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < pairs.length; i += 2) if (!isHopHeader(pairs[i]!.toLowerCase())) kept.push(pairs[i]!, pairs[i + 1]!);
  return kept;
}

/**
 * The owner's "moved" marker (503 + x-partyhouse-moved: the owner's address, or "unavailable"),
 * or undefined when the answer is a real one. The edge re-locates and retries on it.
 */
export function movedOwnerOf(head: ResponseMeta): string | undefined {
  if (head.status !== 503) return undefined;
  for (let i = 0; i < head.headers.length; i += 2) if (head.headers[i]!.toLowerCase() === MOVED_HEADER) return head.headers[i + 1];
  return undefined;
}

function hasHeader(pairs: string[], name: string): boolean {
  for (let i = 0; i < pairs.length; i += 2) if (pairs[i]!.toLowerCase() === name) return true;
  return false;
}

/** `host:port` (or `[v6]:port`) split for node:http. */
export function splitAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(":");
  if (colon < 1) throw new Error(`peer address "${address}" is not host:port`);
  let host = address.slice(0, colon);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  return { host, port: Number(address.slice(colon + 1)) };
}
