// Waits until a freshly started server answers HTTP on a room path, or fails early if it exits.
import type { ChildProcess } from "node:child_process";
import { sleep } from "./clock.js";

export async function waitReady(child: ChildProcess, url: string, timeoutMs: number): Promise<void> {
  let exited: string | null = null;
  child.once("exit", (code, signal) => (exited = `exited with ${signal ?? code}`));
  const deadline = Date.now() + timeoutMs;
  let lastError = "no answer";
  while (Date.now() < deadline) {
    if (exited) throw new Error(exited);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.ok) return;
      lastError = `HTTP ${res.status}`;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    await sleep(100);
  }
  throw new Error(`not ready after ${timeoutMs} ms (${lastError})`);
}
