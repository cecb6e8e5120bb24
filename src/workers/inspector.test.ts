/**
 * The inspector page with `--workers 2`, in headless Chromium: the supervisor serves the page,
 * and what it shows is the whole machine's (admin-api.ts): sockets on both workers counted, and
 * each live room labelled with the worker that holds it.
 */
import { strict as assert } from "node:assert";
import { after, before, test } from "node:test";
import { chromium, type Browser } from "playwright-core";
import WebSocket from "ws";
import { chromiumLaunchOptions } from "../admin/chromium-test-support.js";
import { ensureBuilt, spawnPartyhouse, type SpawnedServer } from "../cli/test-support.js";
import { fixtureProject, ownerPid } from "./test-support.js";

let browser: Browser;
let server: SpawnedServer;
let admin: string;
const sockets: WebSocket[] = [];
/** A room on each worker process, by pid. */
const roomOf = new Map<number, string>();

before(async () => {
  ensureBuilt();
  browser = await chromium.launch(await chromiumLaunchOptions());
  server = await spawnPartyhouse(["start", "--port", "0", "--host", "127.0.0.1", "--workers", "2", "--admin-port", "0"], { cwd: fixtureProject(), timeoutMs: 60_000 });
  admin = /"url":"(http:\/\/[^"]+)","event":"admin listener ready"/.exec(server.output().split("\n").filter((line) => !line.includes('"worker"')).join("\n"))![1]!;
  for (let i = 0; roomOf.size < 2; i++) roomOf.set(await ownerPid(server.url, `page-${i}`), `page-${i}`);
  for (const room of roomOf.values()) {
    const ws = new WebSocket(`${server.url.replace("http", "ws")}/parties/main/${room}`);
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    sockets.push(ws);
  }
});

after(async () => {
  for (const ws of sockets) ws.close();
  await browser?.close();
  await server?.stop();
});

test("the inspector shows both workers' rooms and sockets, each room with its worker", async () => {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(`${admin}/`);
  await page.locator('tr[data-party="main"]').waitFor();
  assert.equal(await page.locator('tr[data-party="main"] td').nth(4).textContent(), "2", "one socket on each worker, added up");
  await page.click('tr[data-party="main"] a');
  const labels = new Set<string>();
  for (const room of roomOf.values()) {
    const row = page.locator(`tr[data-room="${room}"]`);
    await row.waitFor();
    labels.add((await row.locator(".badge.worker").textContent())!);
  }
  assert.deepEqual([...labels].sort(), ["worker 0", "worker 1"]);
  const room = [...roomOf.values()][0]!;
  await page.click(`tr[data-room="${room}"] a`);
  await page.locator("#room-worker").waitFor();
  assert.match((await page.locator("#room-worker").textContent())!, /^worker [01]$/);
  assert.equal(await page.locator("tr[data-connection]").count(), 1, "the room's socket, listed by its worker");
  assert.deepEqual(errors, []);
  await page.close();
});
