import type * as Party from "partykit/server";

// onStart fails the first time it runs in each room: is it retried?
const failedRooms = new Set<string>();

export default class FailStart implements Party.Server {
  private started = false;

  constructor(readonly room: Party.Room) {}

  onStart() {
    if (!failedRooms.has(this.room.id)) {
      failedRooms.add(this.room.id);
      throw new Error("start exploded");
    }
    this.started = true;
  }

  onRequest() {
    return new Response(`started ${this.started}`);
  }
}
