/** Helpers for the admin tests (not a test file itself). */
import { setTimeout as sleep } from "node:timers/promises";
import type * as Party from "../types/party.js";

/** Waits until `check` holds, polling; fails after `ms`. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await sleep(10);
  }
}

/** A hibernating room that stores what it is told and counts how often it was built. */
export class Notes implements Party.Server {
  static built = 0;
  readonly options = { hibernate: true };
  constructor(readonly room: Party.Room) {
    Notes.built++;
  }
  getConnectionTags(connection: Party.Connection) {
    return [new URL(connection.uri).searchParams.get("team") ?? "none"];
  }
  async onMessage(message: string | ArrayBuffer, sender: Party.Connection) {
    const text = String(message);
    if (text === "throw") throw new Error("boom in onMessage");
    if (text.startsWith("state:")) sender.setState({ name: text.slice(6) });
    if (text.startsWith("put:")) {
      const [key, value] = text.slice(4).split("=");
      await this.room.storage.put(key!, JSON.parse(value!));
    }
    if (text === "map") await this.room.storage.put("a-map", new Map([[1, 2]]));
    if (text === "alarm") await this.room.storage.setAlarm(Date.now() + 3_600_000);
    if (text === "broadcast") this.room.broadcast("hello all");
    sender.send("ok");
  }
  async onRequest(request: Party.Request) {
    const url = new URL(request.url);
    const key = url.searchParams.get("put");
    if (key) await this.room.storage.put(key, url.searchParams.get("value") ?? true);
    if (url.searchParams.has("fail")) return new Response("nope", { status: 503 });
    return new Response("stored");
  }
}

export async function getJson(url: string, init?: RequestInit): Promise<{ status: number; body: any }> {
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, body: response.headers.get("content-type")?.includes("json") ? JSON.parse(text) : text };
}
