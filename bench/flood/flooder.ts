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
  report();
  process.exit(0);
});
let sent = 0;
let reported = false;
function report(): void {
  if (!reported) process.stdout.write(`${sent}\n`);
  reported = true;
}
const message = JSON.stringify({ type: "chat", text: "x".repeat(64) });
ws.on("open", () => {
  const end = Date.now() + seconds * 1000;
  const pump = () => {
    if (Date.now() > end || ws.readyState !== WebSocket.OPEN) {
      report();
      ws.terminate();
      return;
    }
    if (ws.bufferedAmount >= 1024 * 1024) {
      // Full: the server is not reading. Wait without spinning, so this process does not
      // take the CPU the server and the probe need (2 cores).
      setTimeout(pump, 1);
      return;
    }
    // Bounded per pass, so a socket that stops counting bytes can never trap this loop.
    for (let i = 0; i < 20_000 && ws.bufferedAmount < 1024 * 1024; i++) {
      ws.send(message);
      sent++;
    }
    setImmediate(pump);
  };
  pump();
});
ws.on("close", () => {
  report();
  process.exit(0);
});
ws.on("error", (error) => {
  process.stderr.write(`flooder: ${error.message}\n`);
  process.exit(1);
});
