import type * as Party from "../types/party.js";
import type { StorageService } from "../storage/contract.js";
import type { RoomRef } from "../storage/engine.js";
import type { PartyCounters } from "../metrics/counters.js";
import type { HandlerErrorReporter } from "./error-reporter.js";
import type { Fanout } from "./fanout.js";
import type { Logger } from "./logger.js";
import type { Placement } from "./placement.js";
import type { PartyDefinition } from "./party-definition.js";
import type { OutputGated } from "./stubs.js";

/** What a room needs from its party and the process around it. */
export interface RoomServices {
  readonly partyName: string;
  /** The party's current definition (it changes when dev reloads the code). */
  definition(): PartyDefinition;
  readonly storage: StorageService;
  readonly env: Record<string, unknown>;
  readonly logger: Logger;
  readonly fanout: Fanout;
  /**
   * `room.context` for a room: other parties (whose calls pass the room's output gate), assets,
   * and the Cloudflare-only bindings.
   */
  context(room: OutputGated): Party.Context;
  /**
   * Which node runs the room: claimed (`acquire`) before every instance is built; `holdsLease`
   * asked before every event (false once a cluster node's lease is not held: it fenced itself).
   */
  readonly placement: Pick<Placement, "acquire" | "holdsLease">;
  /** A durable commit changed the room's alarm. */
  alarmChanged(room: RoomRef, time: number | null): void;
  /** The party's event counts (metrics). */
  readonly counters: PartyCounters;
  /** Where exceptions out of user handlers go: counted, logged once per repeat window. */
  readonly errors: HandlerErrorReporter;
  /** A room's instance finished onStart, `seconds` after it began building; `woke` after hibernation. */
  roomStarted(seconds: number, woke: boolean): void;
}
