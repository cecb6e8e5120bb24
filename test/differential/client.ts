import WebSocket from "ws";

/**
 * Clients that record what they see as short text lines, so two servers' answers can be
 * compared as strings. Every wait is bounded.
 */

export const DEFAULT_WAIT_MS = 3_000;

export interface HttpOptions {
  method?: string;
  body?: string;
  headers?: Record<string, string>;
}

/** `<status> <body>` (plus chosen headers), or `fetch failed: …`. */
export async function http(origin: string, path: string, options: HttpOptions = {}, showHeaders: string[] = []): Promise<string> {
  try {
    const res = await fetch(origin + path, {
      method: options.method ?? "GET",
      headers: options.headers,
      body: options.body,
      signal: AbortSignal.timeout(10_000),
    });
    const body = await res.text();
    const headers = showHeaders.map((name) => ` [${name}: ${res.headers.get(name)}]`).join("");
    return `${res.status} ${body}${headers}`;
  } catch (error) {
    return `fetch failed: ${error instanceof Error ? error.message : String(error)}`;
  }
}

function describeData(data: WebSocket.RawData, isBinary: boolean): string {
  const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  if (!isBinary) {
    const text = buffer.toString("utf8");
    return text.length > 300 ? `text(${text.length} chars)` : `"${text}"`;
  }
  return `binary[${buffer.length > 32 ? `${buffer.length} bytes` : buffer.toString("hex")}]`;
}

export interface ClientOptions {
  protocols?: string[];
  headers?: Record<string, string>;
}

/** One WebSocket client and the events it saw, in order. */
export class RecordingClient {
  readonly events: string[] = [];
  readonly ws: WebSocket;
  private waiters: Array<() => void> = [];
  private closed = false;

  constructor(
    readonly name: string,
    url: string,
    options: ClientOptions = {},
  ) {
    this.ws = new WebSocket(url, options.protocols ?? [], { headers: options.headers, handshakeTimeout: 10_000 });
    this.ws.on("open", () => this.push("open"));
    this.ws.on("message", (data, isBinary) => this.push(describeData(data, isBinary)));
    this.ws.on("close", (code, reason) => {
      this.closed = true;
      this.push(`close ${code}${reason.length > 0 ? ` "${reason.toString()}"` : ""}`);
    });
    this.ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => {
        this.closed = true;
        this.push(`http ${res.statusCode} ${body}`);
      });
      res.on("error", () => this.push(`http ${res.statusCode} (body error)`));
    });
    this.ws.on("error", (error) => {
      // After an unexpected response `ws` also reports an error; the response says it all.
      if (/Unexpected server response/.test(error.message)) return;
      this.push(`error ${error.message}`);
    });
  }

  private push(event: string): void {
    this.events.push(event);
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Waits until `done(events)` holds or `ms` pass; never throws. */
  async until(done: (events: string[]) => boolean, ms = DEFAULT_WAIT_MS): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!done(this.events)) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return true;
  }

  /** Waits for `count` more events than there are now. */
  async more(count = 1, ms = DEFAULT_WAIT_MS): Promise<boolean> {
    const target = this.events.length + count;
    return this.until((events) => events.length >= target, ms);
  }

  /** Waits for an event matching `pattern`. */
  async waitFor(pattern: RegExp, ms = DEFAULT_WAIT_MS): Promise<boolean> {
    return this.until((events) => events.some((e) => pattern.test(e)), ms);
  }

  opened(ms = DEFAULT_WAIT_MS): Promise<boolean> {
    return this.until((events) => events.length > 0, ms);
  }

  /** Sends and waits for `replies` new events. */
  async send(data: string | Uint8Array, replies = 1, ms = DEFAULT_WAIT_MS): Promise<void> {
    const target = this.events.length + replies;
    if (this.ws.readyState !== WebSocket.OPEN) {
      this.events.push(`(not open, could not send)`);
      return;
    }
    this.ws.send(data);
    if (replies > 0) await this.until((events) => events.length >= target, ms);
  }

  /** Quiet time for messages that should (or should not) arrive. */
  async settle(ms = 300): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, ms));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** This client's record, then its socket is dropped. */
  result(): string {
    return `${this.name}: ${this.events.join(" | ")}`;
  }

  terminate(): void {
    this.ws.terminate();
  }
}

/** Opens clients, runs `body`, and always terminates every client afterwards. */
export class ClientPool {
  private readonly clients: RecordingClient[] = [];

  constructor(private readonly wsOrigin: string) {}

  open(name: string, path: string, options: ClientOptions = {}): RecordingClient {
    const client = new RecordingClient(name, this.wsOrigin + path, options);
    this.clients.push(client);
    return client;
  }

  /** Opens and waits for its first event (open, or the refusal). */
  async connect(name: string, path: string, options: ClientOptions = {}, firstEvents = 1): Promise<RecordingClient> {
    const client = this.open(name, path, options);
    await client.until((events) => events.length >= firstEvents || client.isClosed);
    return client;
  }

  terminateAll(): void {
    for (const client of this.clients) client.terminate();
  }
}
