// Time to get a document's state from a server that does not have it in memory:
// - "wake": one socket stays open; after resting `restMs` (past --hibernate-after) it sends sync
//   step 1 and times the step 2 that answers it: the room wakes and rebuilds the document first.
// - "open": a new socket each time (the previous one closed, so the document left memory): from
//   opening the socket to the step 2 answering its step 1, which is what a y-partykit user waits for.
import WebSocket from "ws";
import * as Y from "yjs";
import { syncStep1Message } from "../../../src/yjs/protocol.js";
import { serveLoad } from "../ipc.js";

interface Params {
  port: number;
  path: string;
  samples: number;
  restMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const step1 = syncStep1Message(new Y.Doc());

function open(url: string): Promise<{ ws: WebSocket; step2: () => Promise<void> }> {
  const ws = new WebSocket(url, { maxPayload: 512 * 1024 * 1024 });
  let waiter: (() => void) | undefined;
  ws.on("message", (data: Buffer, binary: boolean) => {
    if (binary && data[0] === 0 && data[1] === 1) waiter?.();
  });
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve({ ws, step2: () => new Promise<void>((r) => (waiter = r)) }));
    ws.once("error", reject);
  });
}

serveLoad({
  async wake({ port, path, samples, restMs }: Params) {
    const { ws, step2 } = await open(`ws://127.0.0.1:${port}${path}`);
    let answered = step2();
    ws.send(step1);
    await answered;
    const times: number[] = [];
    for (let i = 0; i < samples; i++) {
      await sleep(restMs);
      answered = step2();
      const start = performance.now();
      ws.send(step1);
      await answered;
      times.push(performance.now() - start);
    }
    ws.close();
    return times;
  },
  async open({ port, path, samples, restMs }: Params) {
    const times: number[] = [];
    for (let i = 0; i < samples; i++) {
      await sleep(restMs);
      const start = performance.now();
      const { ws, step2 } = await open(`ws://127.0.0.1:${port}${path}`);
      const answered = step2();
      ws.send(step1);
      await answered;
      times.push(performance.now() - start);
      ws.close();
      await new Promise((resolve) => ws.once("close", resolve));
    }
    return times;
  },
});
