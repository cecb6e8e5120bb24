// The baseline: y-partykit's server as its README shows it (persist: snapshot), on partyhouse,
// non-hibernating (y-partykit does not support hibernation), plus the bench's counters.
import type * as Party from "partykit/server";
import { onConnect, unstable_getYDoc } from "y-partykit";
import { memoryResponse, trackDoc, trackInstance } from "./counters.js";

const options = { persist: { mode: "snapshot" as const } };
const seen = new WeakSet<object>();

export default class YPartyKitDocument implements Party.Server {
  constructor(readonly room: Party.Room) {
    trackInstance(this, room.id);
  }
  async onConnect(conn: Party.Connection) {
    await onConnect(conn, this.room, options);
    const doc = await unstable_getYDoc(this.room, options);
    if (!seen.has(doc)) seen.add(doc), trackDoc(doc);
  }
  async onRequest(): Promise<Response> {
    const doc = await unstable_getYDoc(this.room, options);
    return new Response(String(doc.getText("t").length));
  }
  static onFetch(req: Party.Request): Promise<Response | null> {
    return memoryResponse(req);
  }
}
