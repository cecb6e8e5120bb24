import type * as Party from "partykit/server";

type Report = { document: string; editors: number };

/** Editors per document, pushed to every subscriber whenever a document reports. */
export default class Occupancy implements Party.Server {
  readonly editors: Record<string, number> = {};
  constructor(readonly room: Party.Room) {}

  onConnect(connection: Party.Connection) {
    connection.send(JSON.stringify(this.editors));
  }

  async onRequest(request: Party.Request) {
    if (request.method === "POST") {
      const report = await request.json<Report>();
      if (report.editors > 0) this.editors[report.document] = report.editors;
      else delete this.editors[report.document];
      this.room.broadcast(JSON.stringify(this.editors));
    }
    return Response.json(this.editors);
  }
}
