import type * as Party from "partykit/server";
import { errorText } from "./shared.js";

// What onAlarm can see: room.id and room.context.parties.
export default class Alarm implements Party.Server {
  constructor(readonly room: Party.Room) {}

  async onRequest(req: Party.Request) {
    const action = new URL(req.url).searchParams.get("do");
    if (action === "set") {
      await this.room.storage.setAlarm(Date.now() + 200);
      return new Response(`alarm set ${(await this.room.storage.getAlarm()) !== null}`);
    }
    return new Response(`seen ${JSON.stringify((await this.room.storage.get("seen")) ?? null)} alarm ${await this.room.storage.getAlarm()}`);
  }

  async onAlarm() {
    const seen: Record<string, string> = {};
    try {
      seen.id = this.room.id;
    } catch (error) {
      seen.id = errorText(error);
    }
    try {
      seen.parties = Object.keys(this.room.context.parties).sort().join(",");
    } catch (error) {
      seen.parties = errorText(error);
    }
    seen.alarmInside = String(await this.room.storage.getAlarm());
    await this.room.storage.put("seen", seen);
  }
}
