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

/** A socket whose `step2()` resolves with the byte size of the next sync step 2 it receives. */
function open(url: string): Promise<{ ws: WebSocket; step2: () => Promise<number> }> {
  const ws = new WebSocket(url, { maxPayload: 512 * 1024 * 1024 });
  let waiter: ((size: number) => void) | undefined;
  ws.on("message", (data: Buffer, binary: boolean) => {
    if (binary && data[0] === 0 && data[1] === 1) waiter?.(data.byteLength);
  });
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve({ ws, step2: () => new Promise<number>((r) => (waiter = r)) }));
    ws.once("error", reject);
  });
}

/** Times, and the size of each answer (so a sample that got less than the whole document shows). */
interface Samples {
  times: number[];
  sizes: number[];
}

serveLoad({
  async wake({ port, path, samples, restMs }: Params) {
    const { ws, step2 } = await open(`ws://127.0.0.1:${port}${path}`);
    let answered = step2();
    ws.send(step1);
    await answered;
    const result: Samples = { times: [], sizes: [] };
    for (let i = 0; i < samples; i++) {
      await sleep(restMs);
      answered = step2();
      const start = performance.now();
      ws.send(step1);
      result.sizes.push(await answered);
      result.times.push(performance.now() - start);
    }
    ws.close();
    return result;
  },
  async open({ port, path, samples, restMs }: Params) {
    const result: Samples = { times: [], sizes: [] };
    for (let i = 0; i < samples; i++) {
      await sleep(restMs);
      const start = performance.now();
      const { ws, step2 } = await open(`ws://127.0.0.1:${port}${path}`);
      const answered = step2();
      ws.send(step1);
      // A server that never answers gives size -1 rather than hanging the run.
      const size = await Promise.race([answered, sleep(30_000).then(() => -1)]);
      result.sizes.push(size);
      result.times.push(size < 0 ? NaN : performance.now() - start);
      ws.terminate();
    }
    return result;
  },
});
