// partyhouse/yjs as a user writes it (YServer, hibernating, default persistence), plus the bench's
// counters. `--hibernate-after` comes from the command line.
import type * as Party from "partykit/server";
import type * as Y from "yjs";
import { YServer } from "partyhouse/yjs";
import { memoryResponse, trackDoc, trackInstance } from "./counters.js";

export default class BenchDocument extends YServer {
  constructor(room: Party.Room) {
    super(room);
    trackInstance(this, room.id);
  }
  override onLoad(doc: Y.Doc): void {
    trackDoc(doc);
  }
  static onFetch(req: Party.Request): Promise<Response | null> {
    return memoryResponse(req);
  }
}
