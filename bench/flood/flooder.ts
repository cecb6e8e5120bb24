/**
 * One client flooding a room: sends small messages as fast as the socket takes them, keeping
 * at most 1 MiB queued locally (so the server's reading speed, not this process, is the limit).
 * Run as its own process so its CPU does not disturb the latency probe. Prints messages sent.
 */
import WebSocket from "ws";

const [url, seconds] = [process.argv[2]!, Number(process.argv[3] ?? 10)];
const ws = new WebSocket(url);
// Stopped early (the soak ends it): still say how many were sent.
process.on("SIGTERM", () => {
  process.stdout.write(`${sent}\n`);
  process.exit(0);
});
let sent = 0;
const message = JSON.stringify({ type: "chat", text: "x".repeat(64) });
ws.on("open", () => {
  const end = Date.now() + seconds * 1000;
  const pump = () => {
    if (Date.now() > end) {
      process.stdout.write(`${sent}\n`);
      ws.terminate();
      return;
    }
    if (ws.bufferedAmount >= 1024 * 1024) {
      // Full: the server is not reading. Wait without spinning, so this process does not
      // take the CPU the server and the probe need (2 cores).
      setTimeout(pump, 1);
      return;
    }
    while (ws.bufferedAmount < 1024 * 1024) {
      ws.send(message);
      sent++;
    }
    setImmediate(pump);
  };
  pump();
});
ws.on("error", (error) => {
  process.stderr.write(`flooder: ${error.message}\n`);
  process.exit(1);
});
