/**
 * The inspector page in a real browser: headless Chromium (the system's, else a packaged one:
 * chromium-test-support.ts), driven by playwright-core, against a real server with real sockets.
 * Set PARTYHOUSE_SCREENSHOT=<file> to save a screenshot of the room view (docs/inspector.png is
 * made that way).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";
import { startTestServer, type TestServer, type TestSocket } from "../testing/index.js";
import { chromiumLaunchOptions } from "./chromium-test-support.js";
import { Notes } from "./test-support.js";

class Lobby {
  onRequest() {
    return new Response("lobby");
  }
}

let browser: Browser;
let server: TestServer;
const sockets: TestSocket[] = [];

async function send(socket: TestSocket, message: string): Promise<void> {
  socket.send(message);
  assert.equal(await socket.nextText(), "ok");
}

before(async () => {
  browser = await chromium.launch(await chromiumLaunchOptions());
  server = await startTestServer({ parties: { main: Notes, lobby: Lobby }, memory: true, admin: { port: 0 }, hibernateAfterMs: 60_000 });
  const alice = await server.connect("/parties/main/chat-room?_pk=alice&team=red");
  const bob = await server.connect("/parties/main/chat-room?_pk=bob&team=blue");
  sockets.push(alice, bob);
  await send(alice, "state:Alice");
  await send(bob, "state:Bob");
  await send(alice, 'put:messages=[{"from":"alice","text":"hi <b>bob</b>"}]');
  await send(alice, 'put:settings={"topic":"planning","max":50}');
  await send(alice, "map");
  await send(alice, "alarm");
  for (const id of ["design-review", "standup"]) await server.fetch(`/parties/main/${id}?put=notes&value=x`);
});

after(async () => {
  await browser?.close();
  await server?.close();
});

async function openPage(hash = ""): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  await page.goto(`${server.server.adminUrl}/${hash}`);
  (page as Page & { errors: string[] }).errors = errors;
  return page;
}

describe("inspector page (headless Chromium)", () => {
  it("browses parties, rooms, connections and storage, with live counts", async () => {
    const page = await openPage();
    await page.locator('tr[data-party="main"]').waitFor();
    assert.equal(await page.locator('tr[data-party="main"] td').nth(4).textContent(), "2", "two sockets");
    assert.match((await page.locator("#totals").textContent())!, /2 parties · 3 rooms · 3 resident · 0 hibernated · 2 sockets/);

    // Live: a third socket shows up without a reload.
    const carol = await server.connect("/parties/main/chat-room?_pk=carol");
    sockets.push(carol);
    await page.waitForFunction(() => document.querySelector('tr[data-party="main"] td:nth-child(5)')?.textContent === "3", undefined, { timeout: 5000 });

    await page.click('tr[data-party="main"] a');
    await page.locator('tr[data-room="chat-room"]').waitFor();
    assert.deepEqual(await page.locator("tr[data-room]").evaluateAll((rows) => rows.map((row) => row.getAttribute("data-room"))), [
      "chat-room",
      "design-review",
      "standup",
    ]);

    await page.click('tr[data-room="chat-room"] a');
    await page.locator('tr[data-connection="alice"]').waitFor();
    assert.match((await page.locator('tr[data-connection="alice"]').textContent())!, /red.*\{"name":"Alice"\}/);
    assert.match((await page.locator("main").textContent())!, /Alarm: \d{4}-\d\d-\d\dT/);
    assert.deepEqual(await page.locator("tr[data-key]").evaluateAll((rows) => rows.map((row) => row.getAttribute("data-key"))), [
      "a-map",
      "messages",
      "settings",
    ]);
    assert.match((await page.locator('tr[data-key="a-map"]').textContent())!, /Map/);

    // Values are text, never HTML: the stored "<b>" stays literal.
    await page.click('tr[data-key="messages"] a');
    await page.locator("#value").waitFor();
    assert.match((await page.locator("#value").textContent())!, /"text": "hi <b>bob<\/b>"/);
    assert.equal(await page.locator("#value b").count(), 0);

    // Prefix filter on the room view.
    await page.goBack();
    await page.locator("#prefix").fill("se");
    await page.click("#prefix-form button");
    await page.waitForFunction(() => document.querySelectorAll("tr[data-key]").length === 1);
    assert.equal(await page.locator("tr[data-key]").getAttribute("data-key"), "settings");
    await page.locator("#prefix").fill("");
    await page.click("#prefix-form button");
    await page.waitForFunction(() => document.querySelectorAll("tr[data-key]").length === 3);

    if (process.env.PARTYHOUSE_SCREENSHOT) await page.screenshot({ path: process.env.PARTYHOUSE_SCREENSHOT, fullPage: true });
    assert.deepEqual((page as Page & { errors: string[] }).errors, [], "no script errors");
    await page.close();
  });

  it("asks for the token when the listener has one, and works once given", async () => {
    const token = "inspector-token-0123456789";
    const guarded = await startTestServer({ parties: { main: Notes }, memory: true, admin: { port: 0, token } });
    try {
      const page = await browser.newPage();
      await page.goto(`${guarded.server.adminUrl}/`);
      await page.locator("#token-form").waitFor({ state: "visible" });
      await page.fill("#token", token);
      await page.click("#token-form button");
      await page.locator('tr[data-party="main"]').waitFor();
      await page.close();
    } finally {
      await guarded.close();
    }
  });
});
