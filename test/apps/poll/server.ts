import type * as Party from "partykit/server";

type Poll = { question: string; options: string[]; votes: number[] };

/**
 * A poll room: created with a POST, voted on over the socket, results pushed to every
 * client and kept in room storage (so they outlive restarts).
 */
export default class PollRoom implements Party.Server {
  poll: Poll | undefined;
  constructor(readonly room: Party.Room) {}

  async onStart() {
    this.poll = await this.room.storage.get<Poll>("poll");
  }

  async onRequest(request: Party.Request) {
    if (request.method === "POST") {
      if (this.poll) return new Response("this poll exists already", { status: 409 });
      const { question, options } = await request.json<{ question: string; options: string[] }>();
      this.poll = { question, options, votes: options.map(() => 0) };
      await this.room.storage.put("poll", this.poll);
      return Response.json(this.poll, { status: 201 });
    }
    if (!this.poll) return new Response("no such poll", { status: 404 });
    return Response.json(this.poll);
  }

  onConnect(connection: Party.Connection) {
    if (this.poll) connection.send(JSON.stringify(this.poll));
  }

  async onMessage(message: string, sender: Party.Connection) {
    const { vote } = JSON.parse(message) as { vote: number };
    if (!this.poll || !(vote in this.poll.votes)) return sender.send(JSON.stringify({ error: "no such option" }));
    this.poll.votes[vote]!++;
    await this.room.storage.put("poll", this.poll);
    this.room.broadcast(JSON.stringify(this.poll));
  }
}
