// Update fan-out to 100 / 1,000 editors of one document, in interleaved rounds: each round gives
// each server one window (order alternating), so a noisy second lands on both alike. Deliveries
// are counted at the receivers; latency is send → arrival at a probe editor.
import { nowUs } from "../lib/clock.js";
import { Load } from "./ipc.js";
import type { YBenchSettings } from "./options.js";
import type { YBenchServer, YServerName } from "./servers.js";

export interface FanoutRound {
  server: YServerName;
  deliveriesPerSecond: number;
  updatesPerSecond: number;
  latencies: number[];
}

const PER_PROCESS = 500;

interface Rig {
  server: YBenchServer;
  receivers: Load[];
  writer: Load;
}

async function rig(server: YBenchServer, editors: number): Promise<Rig> {
  const path = `/parties/main/fanout-${editors}`;
  const receivers: Load[] = [];
  for (let i = 0; i < editors; i += PER_PROCESS) {
    const load = Load.start(`receivers ${server.name} ${i}`, "fanout");
    receivers.push(load);
    await load.call("receivers", { port: server.port, path, count: Math.min(PER_PROCESS, editors - i) });
  }
  const writer = Load.start(`writer ${server.name}`, "fanout");
  await writer.call("writer", { port: server.port, path, count: 1 });
  return { server, receivers, writer };
}

export async function fanoutRounds(servers: YBenchServer[], editors: number, settings: YBenchSettings, log: (line: string) => void): Promise<FanoutRound[]> {
  const rigs: Rig[] = [];
  try {
    for (const server of servers) rigs.push(await rig(server, editors));
    log(`fan-out ${editors}: ${editors} editors (+ writer and probe) connected to each server`);
    const rounds: FanoutRound[] = [];
    for (let round = -1; round < settings.rounds; round++) {
      const order = round % 2 === 0 ? rigs : [...rigs].reverse();
      for (const { server, receivers, writer } of order) {
        const startUs = nowUs() + 200_000;
        const window = { startUs, endUs: startUs + settings.windowMs * 1000, inFlight: settings.inFlight };
        const [counts, written] = await Promise.all([
          Promise.all(receivers.map((r) => r.call<number>("count", window))),
          writer.call<{ sent: number; latencies: number[] }>("write", window),
        ]);
        if (round < 0) continue; // warm-up
        const seconds = settings.windowMs / 1000;
        rounds.push({
          server: server.name,
          deliveriesPerSecond: counts.reduce((a, b) => a + b, 0) / seconds,
          updatesPerSecond: written.sent / seconds,
          latencies: written.latencies,
        });
      }
    }
    return rounds;
  } finally {
    await Promise.all(rigs.flatMap(({ receivers, writer }) => [...receivers, writer].map((load) => load.stop())));
  }
}
