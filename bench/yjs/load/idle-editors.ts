// Editors that connect, sync and then sit idle, as providers in open browser tabs do: each sends
// sync step 1 and its awareness (a name and a cursor), answers the server's step 1, and then only
// renews its awareness every `renewMs` (y-protocols renews every 15 s; 0 = never).
import { RawWebSocket } from "../../lib/ws-raw.js";
import { serveLoad } from "../ipc.js";
import { awarenessFrame, classify, emptyStep2Frame, step1Frame } from "../wire.js";

interface Params {
  port: number;
  paths: string[];
  firstClientId: number;
  renewMs: number;
}

const editors: RawWebSocket[] = [];
const timers: NodeJS.Timeout[] = [];

async function connect(port: number, path: string, clientId: number, renewMs: number): Promise<void> {
  const ws = await RawWebSocket.open("127.0.0.1", port, path, 60_000);
  editors.push(ws);
  let clock = 1;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no sync for ${path}`)), 120_000);
    ws.onMessage = (payload) => {
      const kind = classify(payload);
      if (kind === "step1") ws.sendFrame(emptyStep2Frame);
      else if (kind === "step2") {
        clearTimeout(timer);
        resolve();
      }
    };
    ws.sendFrame(step1Frame);
    ws.sendFrame(awarenessFrame(clientId, clock));
  });
  ws.onMessage = (payload) => {
    if (classify(payload) === "step1") ws.sendFrame(emptyStep2Frame);
  };
  if (renewMs > 0) {
    // Spread the renewals the way independent tabs would be.
    const start = setTimeout(() => {
      ws.sendFrame(awarenessFrame(clientId, ++clock));
      timers.push(setInterval(() => ws.sendFrame(awarenessFrame(clientId, ++clock)), renewMs));
    }, Math.random() * renewMs);
    timers.push(start);
  }
}

serveLoad({
  async connect({ port, paths, firstClientId, renewMs }: Params) {
    // A few handshakes at a time, as tabs open.
    let next = 0;
    const worker = async () => {
      while (next < paths.length) {
        const i = next++;
        await connect(port, paths[i]!, firstClientId + i, renewMs);
      }
    };
    await Promise.all(Array.from({ length: 20 }, worker));
    return editors.length;
  },
  async close() {
    for (const timer of timers) clearTimeout(timer), clearInterval(timer);
    for (const ws of editors) ws.close();
    editors.length = 0;
  },
});
