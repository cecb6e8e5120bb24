// Update fan-out to every editor of one document. Receivers count, per socket, the writer's
// updates that reached it inside the window (a merged message may carry several: the sequence
// numbers in the content tell). The writer (its own process) keeps `inFlight` updates outstanding
// against a probe socket in the same process, which also times each update from send to arrival.
import * as Y from "yjs";
import { nowUs, sleepUntil } from "../../lib/clock.js";
import { openMany, RawWebSocket } from "../../lib/ws-raw.js";
import { serveLoad } from "../ipc.js";
import { classify, emptyStep2Frame, lastSeq, seqString, step1Frame, updateFrame } from "../wire.js";

interface Connect {
  port: number;
  path: string;
  count: number;
}
interface Window {
  startUs: number;
  endUs: number;
  inFlight: number;
}

/** Connects and waits until the socket has the document (its step 2). */
async function synced(ws: RawWebSocket): Promise<void> {
  await new Promise<void>((resolve) => {
    ws.onMessage = (payload) => {
      const kind = classify(payload);
      if (kind === "step1") ws.sendFrame(emptyStep2Frame);
      else if (kind === "step2") resolve();
    };
    ws.sendFrame(step1Frame);
  });
}

// ---- receivers ----
const receivers: RawWebSocket[] = [];
let counting = false;
let delivered = 0;
let lastSeen: number[] = [];

// ---- writer ----
let writer: RawWebSocket | undefined;
let probe: RawWebSocket | undefined;
const doc = new Y.Doc();
let seq = 0;
let probeSeq = -1;
const sentAt = new Map<number, number>();

serveLoad({
  async receivers({ port, path, count }: Connect) {
    receivers.push(...(await openMany("127.0.0.1", port, () => path, count, 50)));
    lastSeen = receivers.map(() => -1);
    await Promise.all(receivers.map(synced));
    receivers.forEach((ws, i) => {
      ws.onMessage = (payload) => {
        if (classify(payload) !== "update") return;
        const last = lastSeq(payload);
        if (last > lastSeen[i]!) {
          if (counting) delivered += last - lastSeen[i]!;
          lastSeen[i] = last;
        }
      };
    });
    return receivers.length;
  },
  async count({ startUs, endUs }: Window) {
    await sleepUntil(startUs);
    counting = true;
    delivered = 0;
    await sleepUntil(endUs);
    counting = false;
    return delivered;
  },
  async writer({ port, path }: Connect) {
    writer = await RawWebSocket.open("127.0.0.1", port, path);
    probe = await RawWebSocket.open("127.0.0.1", port, path);
    await synced(writer);
    await synced(probe);
    writer.onMessage = () => {}; // y-partykit echoes updates to their sender
    doc.on("update", (update: Uint8Array) => writer!.sendFrame(updateFrame(update)));
    return 2;
  },
  async write({ startUs, endUs, inFlight }: Window) {
    const latencies: number[] = [];
    let sent = 0;
    let resume: (() => void) | undefined;
    probe!.onMessage = (payload) => {
      if (classify(payload) !== "update") return;
      const last = lastSeq(payload);
      const now = nowUs();
      for (let s = probeSeq + 1; s <= last; s++) {
        const at = sentAt.get(s);
        sentAt.delete(s);
        if (at !== undefined && now <= endUs) latencies.push((now - at) / 1000);
      }
      if (last > probeSeq) probeSeq = last;
      resume?.();
    };
    const array = doc.getArray<string>("a");
    await sleepUntil(startUs);
    while (nowUs() < endUs) {
      if (seq - 1 - probeSeq >= inFlight) {
        await new Promise<void>((resolve) => {
          resume = resolve;
          setTimeout(resolve, 50);
        });
        resume = undefined;
        continue;
      }
      sentAt.set(seq, nowUs());
      array.push([seqString(seq++)]);
      sent++;
    }
    // Let the last updates arrive, so the next window starts with nothing outstanding.
    const deadline = Date.now() + 5000;
    while (probeSeq < seq - 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return { sent, latencies };
  },
});
