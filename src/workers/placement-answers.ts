/**
 * The supervisor's answers to a worker's placement messages, from the assignments table: one
 * function, used by the worker pool and by the placement contract test.
 */
import type { Assignments } from "./assignments.js";
import type { Placement, SupervisorMessage, WorkerMessage } from "./protocol.js";

/** The answer to `message` from worker `from`, or undefined for messages that are not about placement. */
export function answerPlacement(
  assignments: Assignments,
  from: number,
  message: WorkerMessage,
  addressOf: (worker: number) => string | undefined,
): SupervisorMessage | undefined {
  switch (message.type) {
    case "locate": {
      const owner = assignments.locate({ party: message.party, room: message.room }, message.claim ? from : undefined);
      const address = owner === undefined ? undefined : addressOf(owner.worker);
      const placement: Placement | null = owner === undefined || address === undefined ? null : { worker: owner.worker, epoch: owner.epoch, address };
      return { type: "placed", id: message.id, placement };
    }
    case "release":
      assignments.release({ party: message.party, room: message.room }, from);
      return { type: "done", id: message.id };
    case "hand-off":
      assignments.handOff({ party: message.party, room: message.room }, from, message.to);
      return { type: "done", id: message.id };
    default:
      return undefined;
  }
}
