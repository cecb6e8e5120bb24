import type * as Party from "partykit/server";
import { onConnect } from "y-partykit";

/**
 * A collaborative document (y-partykit) that reports how many editors it has to the
 * occupancy party, through room.context.parties.
 */
export default class Document implements Party.Server {
  constructor(readonly room: Party.Room) {}

  async onConnect(connection: Party.Connection) {
    await onConnect(connection, this.room, { persist: { mode: "snapshot" } });
    await this.reportOccupancy();
  }

  async onClose() {
    await this.reportOccupancy();
  }

  private async reportOccupancy() {
    const editors = [...this.room.getConnections()].length;
    await this.room.context.parties.occupancy!.get("lobby").fetch({
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ document: this.room.id, editors }),
    });
  }
}
