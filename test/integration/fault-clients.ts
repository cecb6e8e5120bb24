/**
 * The fault test's clients (not a test file itself): HTTP writers and readers, one connection
 * per request through the balancer, and reconnecting `partysocket` clients that alternate
 * increments and reads. Everything they are told goes into the Ledger.
 */
import http from "node:http";
import type { ClientRequest, IncomingMessage } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import PartySocket from "partysocket";
import { WebSocket } from "ws";
import type { Ledger, RoomAnswer } from "./fault-ledger.js";

/**
 * How long an HTTP client waits for an answer before it gives up and tries again (through the
 * balancer, which by then sends it elsewhere if the node stopped): a room whose owner is stopped
 * is then asked for on another node, which takes it over once the owner's lease expired.
 */
const HTTP_TIMEOUT_MS = 2_000;
/** A socket's answer may wait for a stopped owner to resume (partysocket has no heartbeat). */
const SOCKET_ANSWER_TIMEOUT_MS = 10_000;
/** Operations a socket client sends ahead of their answers. */
const MAX_UNANSWERED = 100;

export type Outcome = "answered" | "refused" | "failed";

/** One operation over HTTP on a connection of its own. */
export function httpOperation(ledger: Ledger, port: number, room: string, op: "incr" | "read", id: string): Promise<Outcome> {
  const sentAt = Date.now();
  return new Promise((resolve) => {
    const failed = (error: Error) => {
      ledger.transportErrors.push({ via: "http", at: Date.now(), message: error.message });
      resolve("failed");
    };
    const request = http.request(
      {
        host: "127.0.0.1",
        port,
        path: `/parties/main/${room}?id=${id}`,
        method: op === "incr" ? "POST" : "GET",
        agent: false,
        headers: op === "incr" ? { "content-length": "0" } : {},
        timeout: HTTP_TIMEOUT_MS,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", failed);
        response.on("end", () => {
          const at = Date.now();
          ledger.statuses.push({ via: "http", status: response.statusCode!, retryAfter: header(response, "retry-after"), at });
          if (response.statusCode !== 200) return resolve("refused");
          const answer = JSON.parse(Buffer.concat(chunks).toString()) as RoomAnswer & { lb: string | null };
          ledger.done.push({ ...answer, room, via: "http", sentAt, doneAt: at });
          ledger.direct(answer.lb, answer.node);
          resolve("answered");
        });
      },
    );
    request.on("timeout", () => request.destroy(new Error("no answer in time")));
    request.on("error", failed);
    request.end();
  });
}

/** Sends `op` to `room` over HTTP until `running()` is false, `pauseMs` apart (100 ms after a refusal). */
export async function httpLoop(ledger: Ledger, port: number, room: string, op: "incr" | "read", name: string, pauseMs: number, running: () => boolean) {
  for (let seq = 0; running(); seq++) {
    const outcome = await httpOperation(ledger, port, room, op, `${name}-${seq}`);
    await sleep(outcome === "answered" ? pauseMs : 100);
  }
}

/**
 * A reconnecting `partysocket` client (the real package, as a browser app would use it) through
 * the balancer; its WebSocket records the HTTP status of every handshake. It sends as apps do,
 * without waiting for answers (up to MAX_UNANSWERED), so what it sends while its node is
 * stopped waits in that node's socket buffers: a node that resumed must not answer it from
 * before its lease expired.
 */
export class SocketClient {
  readonly socket: PartySocket;
  opens = 0;
  /** When an answer last arrived. */
  lastAnswerAt = 0;
  private readonly sent = new Map<string, { op: "incr" | "read"; sentAt: number }>();
  private readonly waiters = new Map<string, (answered: boolean) => void>();
  /** Sent on the socket now open and not answered yet. */
  private unanswered = 0;
  private seq = 0;

  constructor(
    private readonly ledger: Ledger,
    balancer: string,
    readonly room: string,
    readonly name: string,
  ) {
    const recording = class extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, {
          finishRequest: (request: ClientRequest) => {
            request.on("upgrade", () => ledger.statuses.push({ via: "ws", status: 101, retryAfter: undefined, at: Date.now() }));
            request.on("response", (response: IncomingMessage) =>
              ledger.statuses.push({ via: "ws", status: response.statusCode!, retryAfter: header(response, "retry-after"), at: Date.now() }),
            );
            request.end();
          },
        });
      }
    };
    this.socket = new PartySocket({
      host: balancer,
      room,
      id: name,
      WebSocket: recording,
      minReconnectionDelay: 100,
      maxReconnectionDelay: 500,
      connectionTimeout: 4_000,
    });
    let open = false;
    this.socket.addEventListener("open", () => {
      this.opens++;
      open = true;
      this.unanswered = 0;
    });
    this.socket.addEventListener("close", (event) => {
      // partysocket also reports a handshake that failed as a close (1000): only closes of open sockets count.
      if (open) ledger.closed(event.code);
      open = false;
      for (const waiter of this.waiters.values()) waiter(false);
      this.waiters.clear();
    });
    this.socket.addEventListener("error", (event) => {
      const message = String((event as { message?: unknown }).message ?? "");
      if (!/Unexpected server response/.test(message)) ledger.transportErrors.push({ via: "ws", at: Date.now(), message });
    });
    this.socket.addEventListener("message", (event) => this.answer(String(event.data)));
  }

  /**
   * Increments and reads in turn (or only reads, as a client that watches), one every `pauseMs`
   * while the socket is open, until `running()` is false.
   */
  async run(pauseMs: number, running: () => boolean, ops: "incr+read" | "read" = "incr+read"): Promise<void> {
    while (running()) {
      if (this.socket.readyState === WebSocket.OPEN && this.unanswered < MAX_UNANSWERED) {
        this.send(ops === "read" || this.seq % 2 === 1 ? "read" : "incr");
      }
      await sleep(pauseMs);
    }
  }

  /** One operation; true once its answer arrived (false: the socket closed, or no answer in time). */
  operation(op: "incr" | "read", timeoutMs = SOCKET_ANSWER_TIMEOUT_MS): Promise<boolean> {
    const id = this.send(op);
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(false), timeoutMs);
      const done = (answered: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(id);
        resolve(answered);
      };
      this.waiters.set(id, done);
    });
  }

  close(): void {
    this.socket.close();
  }

  private send(op: "incr" | "read"): string {
    const id = `${this.name}-${this.seq++}`;
    this.sent.set(id, { op, sentAt: Date.now() });
    this.unanswered++;
    this.socket.send(JSON.stringify({ op, id }));
    return id;
  }

  private answer(text: string): void {
    const message = JSON.parse(text) as RoomAnswer | { op: "hello"; node: string; lb: string | null };
    if (message.op === "hello") {
      this.ledger.direct(message.lb, message.node);
      return;
    }
    const sent = this.sent.get(message.id);
    if (sent === undefined) return;
    this.sent.delete(message.id);
    this.unanswered = Math.max(0, this.unanswered - 1);
    this.lastAnswerAt = Date.now();
    this.ledger.done.push({ ...message, room: this.room, via: "ws", sentAt: sent.sentAt, doneAt: this.lastAnswerAt });
    this.waiters.get(message.id)?.(true);
  }
}

function header(response: IncomingMessage, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
