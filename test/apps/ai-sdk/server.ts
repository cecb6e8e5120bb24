import type * as Party from "partykit/server";
import { Ai } from "partykit-ai";
import OpenAI from "openai";

/**
 * An assistant room as PartyKit apps write it: the Workers AI wrapper is built from
 * room.context.ai in the constructor (partykit-ai reads the binding there), and the OpenAI
 * client finds its key and base URL in process.env by itself (from .env).
 */
export default class Assistant implements Party.Server {
  readonly ai: Ai;
  readonly openai: OpenAI;

  constructor(readonly room: Party.Room) {
    this.ai = new Ai(room.context.ai);
    this.openai = new OpenAI();
  }

  async onRequest(request: Party.Request) {
    if (new URL(request.url).pathname.endsWith("/workers-ai")) {
      try {
        await this.ai.run("@cf/meta/llama-2-7b-chat-int8", { prompt: "hello" });
        return new Response("ran", { status: 200 });
      } catch (error) {
        return new Response((error as Error).message, { status: 501 });
      }
    }
    const keyName = ["OPENAI", "API", "KEY"].join("_");
    return Response.json({
      openaiKey: this.openai.apiKey,
      openaiBaseURL: this.openai.baseURL,
      dynamicRead: process.env[keyName],
      listed: Object.keys(process.env).includes(keyName),
      env: this.room.env,
    });
  }
}
