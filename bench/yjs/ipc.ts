// A small request/reply channel between the runner and its load processes (forked, each the leader
// of its own process group, registered in bench/lib/children.ts so every one is ended by PID).
import { fileURLToPath } from "node:url";
import type { ChildProcess } from "node:child_process";
import { forkChild, stopChild } from "../lib/children.js";

interface Request {
  id: number;
  op: string;
  params: unknown;
}
type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

export class Load {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(
    readonly label: string,
    private readonly child: ChildProcess,
  ) {
    child.on("message", (reply: Reply) => {
      const waiter = this.waiting.get(reply.id);
      if (!waiter) return;
      this.waiting.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.value);
      else waiter.reject(new Error(`${label}: ${reply.error}`));
    });
    child.once("exit", (code) => {
      for (const waiter of this.waiting.values()) waiter.reject(new Error(`${label} exited (${code})`));
      this.waiting.clear();
    });
  }

  /** Forks bench/yjs/load/<script>.ts. */
  static start(label: string, script: string): Load {
    const path = fileURLToPath(new URL(`./load/${script}.ts`, import.meta.url));
    const child = forkChild(label, path, [], { execArgv: ["--import", "tsx", "--max-old-space-size=2048"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    return new Load(label, child);
  }

  call<T>(op: string, params: unknown = null, timeoutMs = 300_000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${this.label}: ${op} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v as T)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.child.send({ id, op, params } satisfies Request);
    });
  }

  stop(): Promise<void> {
    return stopChild(this.child);
  }
}

/** The load-process side: serve `handlers` until the runner goes away (or 20 minutes pass). */
export function serveLoad(handlers: Record<string, (params: never) => Promise<unknown>>): void {
  if (!process.send) throw new Error("a load script runs as a child of bench/yjs/run.ts");
  setTimeout(() => process.exit(3), 20 * 60_000).unref();
  process.on("disconnect", () => process.exit(0));
  process.on("message", (request: Request) => {
    const handler = handlers[request.op];
    const result = handler ? handler(request.params as never) : Promise.reject(new Error(`unknown op ${request.op}`));
    result.then(
      (value) => process.send?.({ id: request.id, ok: true, value: value ?? null } satisfies Reply),
      (error: unknown) => process.send?.({ id: request.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies Reply),
    );
  });
}
