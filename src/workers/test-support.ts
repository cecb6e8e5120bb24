/**
 * Helpers for the workers tests (not a test file itself): a copy of the fixture project in a
 * temp folder (its own data folder), HTTP requests on fresh or shared connections, and a
 * request to a room that says which worker process answered.
 */
import { cpSync, mkdtempSync } from "node:fs";
import { request as httpRequest, Agent } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../cli/test-support.js";

/** A fresh copy of test/fixtures/workers, so each test has a data folder of its own. */
export function fixtureProject(): string {
  const dir = mkdtempSync(join(tmpdir(), "partyhouse-workers-"));
  cpSync(join(repoRoot, "test/fixtures/workers"), dir, { recursive: true });
  return dir;
}

export interface Answer {
  readonly status: number;
  readonly body: string;
}

/**
 * One request; `agent: false` opens a connection of its own (the supervisor routes it), an Agent
 * reuses kept-alive connections (the worker that got one forwards requests for other rooms).
 */
export function send(base: string, path: string, options: { method?: string; agent?: Agent | false; timeoutMs?: number } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, base), { method: options.method ?? "GET", agent: options.agent ?? false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.setTimeout(options.timeoutMs ?? 15_000, () => req.destroy(new Error(`no answer to ${path} in time`)));
    req.on("error", reject);
    req.end();
  });
}

/** The pid of the worker process serving the room. */
export async function ownerPid(base: string, room: string, agent: Agent | false = false): Promise<number> {
  const answer = await send(base, `/parties/main/${room}`, { agent });
  if (answer.status !== 200) throw new Error(`room ${room} answered ${answer.status}: ${answer.body}`);
  return (JSON.parse(answer.body) as { pid: number }).pid;
}

/** The pid of the worker serving the room, asked on `agent`'s kept-alive connection, and whether that connection was reused. */
export function ownerOnKeptConnection(base: string, room: string, agent: Agent): Promise<{ pid: number; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(`/parties/main/${room}`, base), { agent }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ pid: (JSON.parse(body) as { pid: number }).pid, reused: req.reusedSocket }));
    });
    req.on("error", reject);
    req.end();
  });
}

export async function ledger(base: string, room: string): Promise<number[]> {
  const answer = await send(base, `/parties/main/${room}?ledger`);
  if (answer.status !== 200) throw new Error(`room ${room} answered ${answer.status}: ${answer.body}`);
  return (JSON.parse(answer.body) as { writes: number[] }).writes;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
