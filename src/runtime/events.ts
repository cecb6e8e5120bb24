/**
 * The WHATWG-shaped events a Connection dispatches to listeners that user code adds with
 * addEventListener or onmessage/onclose/onerror. Node 22 has no global CloseEvent, and its
 * MessageEvent is heavier than needed per message, so these are small classes of our own.
 */
export class ConnectionMessageEvent extends Event {
  constructor(readonly data: string | ArrayBuffer | Blob) {
    super("message");
  }
}

export class ConnectionCloseEvent extends Event {
  constructor(
    readonly code: number,
    readonly reason: string,
    readonly wasClean: boolean,
  ) {
    super("close");
  }
}

export class ConnectionErrorEvent extends Event {
  readonly message: string;
  constructor(readonly error: Error) {
    super("error");
    this.message = error.message;
  }
}

export type ConnectionEvent = ConnectionMessageEvent | ConnectionCloseEvent | ConnectionErrorEvent;
export type ConnectionEventType = "message" | "close" | "error" | "open";
