/**
 * A room that is closing or closed (server stop, dev reload, eviction) runs no more user code
 * and never builds an instance again. Events that arrive for it meanwhile (a frame from a
 * socket that is still closing, a request already routed to it) are refused with this error.
 */
export class RoomClosedError extends Error {
  override name = "RoomClosedError";
  constructor(room: string) {
    super(`Room ${room} is closed`);
  }
}
