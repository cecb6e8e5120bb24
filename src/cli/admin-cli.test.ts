/**
 * The admin flags and logging as users meet them: `partyhouse start` as a child process on a
 * temp project, JSON log lines on stderr, the admin port answering, and one-line usage errors.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import WebSocket from "ws";
import { ensureBuilt, freePort, repoRoot, runToExit, spawnPartyhouse } from "./test-support.js";
import { tempProjects } from "../config/test-support.js";

const project = tempProjects();

before(ensureBuilt);

const SERVER = `
export default class Server {
  constructor(room) { this.room = room; }
  onMessage(message, sender) {
    if (message === "throw") throw new Error("handler exploded");
    sender.send("ok");
  }
}
`;

describe("admin flags and logs", () => {
  test("start --admin-port serves metrics; logs are JSON lines; a throwing handler is logged once with its stack", async () => {
    const { dir } = await project({ "partykit.json": `{ "main": "s.js" }`, "s.js": SERVER });
    const adminPort = await freePort();
    const server = await spawnPartyhouse(["start", "--port", "0", "--host", "127.0.0.1", "--persist", "false", "--admin-port", String(adminPort)], { cwd: dir });
    try {
      const ws = new WebSocket(`${server.url.replace("http", "ws")}/parties/main/r1`);
      await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
      for (let i = 0; i < 50; i++) ws.send("throw");
      ws.send("hi");
      await new Promise((resolve) => ws.once("message", resolve));
      const metrics = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
      assert.match(metrics, /^partyhouse_handler_errors_total\{party="main",handler="onMessage"\} 50$/m);
      assert.equal((await fetch(`http://127.0.0.1:${adminPort}/readyz`)).status, 200);
      ws.close();
    } finally {
      await server.stop();
    }
    const lines = server
      .output()
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const line of lines) {
      assert.equal(typeof line.level, "string");
      assert.equal(typeof line.time, "string");
      assert.equal(typeof line.event, "string");
    }
    assert.ok(lines.some((line) => line.event === "admin listener ready" && line.url === `http://127.0.0.1:${adminPort}`));
    const errors = lines.filter((line) => line.event === "onMessage failed");
    assert.equal(errors.length, 1, "50 identical errors, one line");
    assert.equal(errors[0]!.party, "main");
    assert.equal(errors[0]!.room, "r1");
    assert.equal(errors[0]!.level, "error");
    assert.match(String(errors[0]!.stack), /handler exploded\n\s+at /);
  });

  test("admin in the config, and --log-level warn hides info lines", async () => {
    const adminPort = await freePort();
    const { dir } = await project({ "partykit.json": `{ "main": "s.js", "admin": { "port": ${adminPort} } }`, "s.js": SERVER });
    const server = await spawnPartyhouse(["start", "--port", "0", "--host", "127.0.0.1", "--persist", "false", "--log-level", "warn"], { cwd: dir });
    try {
      assert.equal((await fetch(`http://127.0.0.1:${adminPort}/healthz`)).status, 200);
    } finally {
      await server.stop();
    }
    assert.doesNotMatch(server.output(), /"level":"info"/);
  });

  test("usage errors: off-loopback admin without a token, a token in the config, a bad level", async () => {
    const { dir } = await project({ "partykit.json": `{ "main": "s.js" }`, "s.js": SERVER });
    const noToken = await runToExit(["start", "--admin-port", "0", "--admin-host", "0.0.0.0"], { cwd: dir });
    assert.equal(noToken.code, 2);
    assert.equal(
      noToken.stderr,
      "partyhouse: the admin listener on 0.0.0.0 is reachable from other machines and needs a token: pass --admin-token <token> or set PARTYHOUSE_ADMIN_TOKEN (or bind it to 127.0.0.1)\n",
    );
    const level = await runToExit(["start", "--log-level", "loud"], { cwd: dir });
    assert.equal(level.code, 2);
    assert.match(level.stderr, /--log-level must be one of debug, info, warn, error/);
    const inConfig = await project({ "partykit.json": `{ "main": "s.js", "admin": { "port": 1, "token": "x" } }`, "s.js": SERVER });
    const tokenInConfig = await runToExit(["start"], { cwd: inConfig.dir });
    assert.equal(tokenInConfig.code, 1);
    assert.match(tokenInConfig.stderr, /"admin.token" is not read from the config file/);
  });
});
