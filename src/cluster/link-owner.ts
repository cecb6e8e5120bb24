/**
 * The owner's end of a peer link: each Request frame becomes a web Request for the room here,
 * and the room's Response goes back whole (one frame) when its body is known up front, else as
 * a head and body chunks that follow the edge's Pause / Resume and stop on Cancel. A StreamOpen
 * becomes a virtual connection this node's HTTP server serves like any other (a proxied
 * WebSocket's handshake, then its frames).
 */
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type * as Party from "../types/party.js";
import { impliedContentType, LazyResponse } from "../server/lazy-response.js";
import { LinkConnection } from "./link-connection.js";
import { LinkStream } from "./link-stream.js";
import { decodeMeta, encodeFrame, encodeMetaFrame, FrameType, MAX_CHUNK_BYTES, type Frame } from "./link-frames.js";

/** What the edge sends about a request: the room, and the request as the edge saw it past onBeforeRequest. */
export interface RequestMeta {
  readonly party: string;
  readonly room: string;
  readonly method: string;
  readonly url: string;
  /** Flat [name, value, …] pairs. */
  readonly headers: string[];
  readonly cf: Party.RequestCf;
  /** The body follows in Body frames and an End (or Error), instead of riding in this frame. */
  readonly streamed?: boolean;
}

/** A response head. */
export interface ResponseMeta {
  readonly status: number;
  readonly statusText: string;
  /** Flat [name, value, …] pairs, every Set-Cookie line its own pair. */
  readonly headers: string[];
}

/** Serves one linked request (the router: claim check, then the room). */
export type LinkedRequestHandler = (party: string, room: string, request: Party.Request) => Promise<Response>;

/** A body being sent: paused by the edge, or cancelled. */
class Outgoing {
  paused = false;
  cancelled = false;
  private wake: (() => void) | undefined;

  waitForResume(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }

  resume(): void {
    this.paused = false;
    this.wake?.();
    this.wake = undefined;
  }

  cancel(): void {
    this.cancelled = true;
    this.resume();
  }
}

/** Above this many body bytes the room has not read yet, the edge is asked to pause the upload. */
const INCOMING_HIGH_WATER_BYTES = 1024 * 1024;

/**
 * A streamed request body arriving in Body frames: the web stream the room reads. When the room
 * reads slower than the edge sends, the edge is asked to pause; a room that cancels the body, or
 * answers without reading it all, cancels the upload.
 */
class IncomingBody {
  readonly stream: ReadableStream<Uint8Array>;
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  private pausedEdge = false;
  private done = false;

  constructor(private readonly tell: (type: typeof FrameType.Pause | typeof FrameType.Resume | typeof FrameType.Cancel) => void) {
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => void (this.controller = controller),
        pull: () => {
          if (!this.pausedEdge) return;
          this.pausedEdge = false;
          this.tell(FrameType.Resume);
        },
        cancel: () => this.abandon(),
      },
      { highWaterMark: INCOMING_HIGH_WATER_BYTES, size: (chunk) => chunk.byteLength },
    );
  }

  chunk(data: Buffer): void {
    if (this.done) return;
    this.controller.enqueue(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    if (!this.pausedEdge && (this.controller.desiredSize ?? 0) <= 0) {
      this.pausedEdge = true;
      this.tell(FrameType.Pause);
    }
  }

  end(error?: Error): void {
    if (this.done) return;
    this.done = true;
    if (error) this.controller.error(error);
    else this.controller.close();
  }

  /** Nobody will read the rest: the edge stops sending it. */
  abandon(): void {
    if (this.done) return;
    this.done = true;
    this.tell(FrameType.Cancel);
    try {
      this.controller.error(new Error("request body abandoned"));
    } catch {
      // Already cancelled by its reader.
    }
  }
}

/** What the owner's end needs from this node. */
export interface OwnerLinkHandlers {
  /** Serves one linked request (the router: claim check, then the room). */
  readonly request: LinkedRequestHandler;
  /** Serves a virtual connection as if it had just been accepted (node:http's 'connection'). */
  readonly connection: (stream: Duplex) => void;
  readonly failure: (error: unknown) => void;
}

export class OwnerLink {
  private readonly connection: LinkConnection;
  private readonly outgoing = new Map<number, Outgoing>();
  private readonly streams = new Map<number, LinkStream>();
  /** Streamed request bodies still arriving, by request stream. */
  private readonly incoming = new Map<number, IncomingBody>();

  constructor(
    socket: Socket,
    head: Buffer,
    private readonly handlers: OwnerLinkHandlers,
  ) {
    this.connection = new LinkConnection(socket, head, (frame) => this.receive(frame), (error) => {
      for (const body of this.outgoing.values()) body.cancel();
      this.outgoing.clear();
      for (const stream of this.streams.values()) stream.linkLost(error);
      this.streams.clear();
      for (const body of this.incoming.values()) body.end(error);
      this.incoming.clear();
    });
  }

  close(): void {
    this.connection.close();
  }

  private receive(frame: Frame): void {
    switch (frame.type) {
      case FrameType.Request:
        this.serve(frame.stream, frame.payload).catch(this.handlers.failure);
        return;
      case FrameType.StreamOpen: {
        const stream = new LinkStream(this.connection, frame.stream, (gone) => this.streams.delete(gone.id));
        this.streams.set(frame.stream, stream);
        this.handlers.connection(stream);
        return;
      }
      case FrameType.Pause: {
        const body = this.outgoing.get(frame.stream);
        if (body) body.paused = true;
        else this.streams.get(frame.stream)?.received(frame.type, frame.payload);
        return;
      }
      case FrameType.Resume: {
        const body = this.outgoing.get(frame.stream);
        if (body) body.resume();
        else this.streams.get(frame.stream)?.received(frame.type, frame.payload);
        return;
      }
      case FrameType.Cancel:
        this.outgoing.get(frame.stream)?.cancel();
        return;
      // A streamed request body.
      case FrameType.Body:
        this.incoming.get(frame.stream)?.chunk(frame.payload);
        return;
      case FrameType.End:
        this.incoming.get(frame.stream)?.end();
        this.incoming.delete(frame.stream);
        return;
      case FrameType.Error:
        this.incoming.get(frame.stream)?.end(new Error(`the client's request body failed: ${frame.payload.toString()}`));
        this.incoming.delete(frame.stream);
        return;
      default:
        this.streams.get(frame.stream)?.received(frame.type, frame.payload);
    }
  }

  private async serve(stream: number, payload: Buffer): Promise<void> {
    const { meta, body } = decodeMeta<RequestMeta>(payload);
    let streamed: IncomingBody | undefined;
    if (meta.streamed) {
      streamed = new IncomingBody((type) => this.connection.send(encodeFrame(type, stream)));
      this.incoming.set(stream, streamed);
    }
    let response: Response;
    try {
      response = await this.handlers.request(meta.party, meta.room, linkedRequest(meta, streamed?.stream ?? body));
    } catch (error) {
      // As the front door answers a request whose handling threw.
      this.handlers.failure(error);
      response = new Response(error instanceof Error ? error.message : String(error), { status: 500 });
    }
    await this.respond(stream, response, meta.method === "HEAD");
    // Answered without reading the whole body: the edge stops sending it.
    if (streamed !== undefined && this.incoming.get(stream) === streamed) {
      this.incoming.delete(stream);
      streamed.abandon();
    }
  }

  private async respond(stream: number, response: Response, head: boolean): Promise<void> {
    const lazy = LazyResponse.unwrap(response);
    if (lazy !== undefined) {
      const headers = lazy.headers ? pairsOf(lazy.headers) : [];
      const implied = impliedContentType(lazy);
      if (implied !== undefined) headers.push("content-type", implied);
      const body = lazy.body === null || head ? undefined : typeof lazy.body === "string" ? Buffer.from(lazy.body) : lazy.body;
      return this.connection.send(encodeMetaFrame(FrameType.Response, stream, metaOf(lazy.status, lazy.statusText, headers), body));
    }
    const meta = metaOf(response.status, response.statusText, pairsOf(response.headers));
    const source = response.body;
    if (source === null || head) {
      source?.cancel().catch(() => {});
      return this.connection.send(encodeMetaFrame(FrameType.Response, stream, meta));
    }
    this.connection.send(encodeMetaFrame(FrameType.Head, stream, meta));
    const body = new Outgoing();
    this.outgoing.set(stream, body);
    const reader = source.getReader();
    try {
      for (;;) {
        if (body.paused) await body.waitForResume();
        if (this.connection.congested && !body.cancelled) await this.connection.drained();
        if (body.cancelled || !this.connection.isOpen) {
          await reader.cancel().catch(() => {});
          return;
        }
        const { done, value } = await reader.read();
        if (done) break;
        for (let at = 0; at < value.byteLength; at += MAX_CHUNK_BYTES) {
          this.connection.send(encodeFrame(FrameType.Body, stream, value.subarray(at, at + MAX_CHUNK_BYTES)));
        }
      }
      this.connection.send(encodeFrame(FrameType.End, stream));
    } catch (error) {
      this.connection.send(encodeFrame(FrameType.Error, stream, Buffer.from(error instanceof Error ? error.message : String(error))));
    } finally {
      this.outgoing.delete(stream);
    }
  }
}

/** The Request the room sees: the edge's URL, headers and `cf`. */
function linkedRequest(meta: RequestMeta, body: Buffer | ReadableStream<Uint8Array>): Party.Request {
  const headers = new Headers();
  for (let i = 0; i < meta.headers.length; i += 2) headers.append(meta.headers[i]!, meta.headers[i + 1]!);
  const init: RequestInit & { duplex?: "half" } = { method: meta.method, headers };
  if (!Buffer.isBuffer(body)) {
    init.body = body as unknown as BodyInit;
    init.duplex = "half";
  } else if (body.length > 0 && meta.method !== "GET" && meta.method !== "HEAD") init.body = body as unknown as BodyInit;
  const request = new Request(meta.url, init);
  Object.defineProperty(request, "cf", { value: meta.cf, enumerable: true, configurable: true, writable: true });
  return request as Party.Request;
}

function metaOf(status: number, statusText: string, headers: string[]): ResponseMeta {
  return { status, statusText, headers };
}

/** Headers as flat pairs; iterating Headers yields each Set-Cookie line on its own. */
function pairsOf(headers: Headers): string[] {
  const pairs: string[] = [];
  for (const [name, value] of headers) pairs.push(name, value);
  return pairs;
}
