import type * as Party from "partykit/server";

// Issue 18: messages that arrive together, each doing ++ → await put → broadcast. Under
// workerd's input gate they run one after another, so the broadcasts count 1, 2, 3, ….
export default class RaceMsg implements Party.Server {
  private value = 0;

  constructor(readonly room: Party.Room) {}

  async onMessage() {
    this.value++;
    await this.room.storage.put("value", this.value);
    this.room.broadcast(String(this.value));
  }
}
