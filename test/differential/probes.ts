import { ClientPool, http, type RecordingClient } from "./client.js";

/**
 * The scripted requests and socket conversations, each sent identically to both servers.
 * A probe returns one string (what the client saw); the runner normalizes and compares them.
 */

export type ProjectName = "rooms" | "legacy";

export interface Target {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
}

export interface Spec10 {
  /** The spec section 10 row this probe exercises. */
  readonly topic: string;
  /** What partyhouse should answer instead (matched against its normalized result). */
  readonly partyhouse: RegExp;
}

export interface Probe {
  readonly project: ProjectName;
  readonly group: string;
  readonly name: string;
  run(target: Target): Promise<string>;
  /** Set when spec 10 asks partyhouse to behave differently here. */
  readonly spec10?: Spec10;
  /** Set when partyhouse cannot give PartyKit's exact answer, with the reason why. */
  readonly known?: KnownDifference;
}

export interface KnownDifference {
  readonly why: string;
  /** What partyhouse answers instead (matched against its normalized result). */
  readonly partyhouse: RegExp;
}

/** workerd's 1009 reason names the message size; `ws` keeps that size private. */
const TOO_LARGE: KnownDifference = {
  why: "the 1009 close reason cannot name the size: `ws` does not expose it",
  partyhouse: /close 1009 "Message is too large: more than 1048576 bytes"/,
};

const SEP = " ‖ ";
const MIB = 1024 * 1024;

function get(path: string, init?: Parameters<typeof http>[2], headers?: string[]): Probe["run"] {
  return (t) => http(t.origin, path, init, headers);
}

/** Runs a socket conversation with a fresh pool; every client is terminated afterwards. */
function sockets(body: (pool: ClientPool) => Promise<Array<RecordingClient | string>>): Probe["run"] {
  return async (t) => {
    const pool = new ClientPool(t.origin.replace(/^http/, "ws"));
    try {
      const parts = await body(pool);
      return parts.map((part) => (typeof part === "string" ? part : part.result())).join(SEP);
    } finally {
      pool.terminateAll();
    }
  };
}

/** One client: connect, send each message waiting for `replies` events, then report. */
function conversation(path: string, messages: Array<[string | Uint8Array, number]>, settleMs = 0): Probe["run"] {
  return sockets(async (pool) => {
    const c = await pool.connect("c", path, {}, 2);
    for (const [message, replies] of messages) await c.send(message, replies);
    if (settleMs > 0) await c.settle(settleMs);
    return [c];
  });
}

const rooms: Array<Omit<Probe, "project">> = [
  // ---- routing ---------------------------------------------------------------------------------
  { group: "routing", name: "GET /parties/main/:room/sub/path?q", run: get("/parties/main/r1/sub/path?q=1&r=2") },
  { group: "routing", name: "POST /party/:room/sub (legacy path)", run: get("/party/r2/sub", { method: "POST", body: "hello" }) },
  { group: "routing", name: "OPTIONS reaches onRequest", run: get("/parties/main/r1", { method: "OPTIONS" }) },
  { group: "routing", name: "HEAD to a room", run: get("/parties/main/r1", { method: "HEAD" }) },
  { group: "routing", name: "room id stays percent-encoded", run: get("/parties/main/a%20b%2Fc") },
  { group: "routing", name: "room id with . - _", run: get("/parties/main/r.1-_x") },
  { group: "routing", name: "same room id in another party", run: get("/parties/other/r1?k=v") },
  { group: "routing", name: "unknown party", run: get("/parties/unknown/r1") },
  { group: "routing", name: "empty room /parties/main/", run: get("/parties/main/") },
  { group: "routing", name: "no room /parties/main", run: get("/parties/main") },
  { group: "routing", name: "empty room /party/", run: get("/party/") },
  { group: "routing", name: "/parties/", run: get("/parties/") },
  { group: "routing", name: "/ (no assets)", run: get("/") },
  { group: "routing", name: "onFetch answers", run: get("/fetch/hello?x=1") },
  { group: "routing", name: "onFetch POST", run: get("/fetch/post", { method: "POST", body: "b" }) },
  { group: "routing", name: "onFetch returns null -> 404", run: get("/nothing/here") },
  { group: "routing", name: "onFetch throws", run: get("/fetch-throw") },
  // ---- onRequest errors --------------------------------------------------------------------------
  { group: "onRequest", name: "throws Error", run: get("/parties/main/e1?do=throw") },
  { group: "onRequest", name: "throws Error with code 418", run: get("/parties/main/e1?do=code") },
  { group: "onRequest", name: "throws a string", run: get("/parties/main/e1?do=string") },
  { group: "onRequest", name: "throws an Error without message", run: get("/parties/main/e1?do=empty") },
  { group: "onRequest", name: "returns a non-Response", run: get("/parties/main/e1?do=non-response") },
  { group: "onRequest", name: "room still works after errors", run: get("/parties/main/e1?after=errors") },
  { group: "onRequest", name: "party without onRequest", run: get("/parties/nohandler/n1", { method: "POST", body: "x" }) },
  // ---- onBeforeRequest / onBeforeConnect ----------------------------------------------------------
  { group: "onBefore*", name: "onBeforeRequest throws -> 401", run: get("/parties/gate/g1?deny=1") },
  { group: "onBefore*", name: "onBeforeRequest returns Response", run: get("/parties/gate/g1?block=1", {}, ["x-blocked"]) },
  { group: "onBefore*", name: "onBeforeRequest returns new Request", run: get("/parties/gate/g1?rewrite=1") },
  { group: "onBefore*", name: "onBeforeRequest mutates the copy", run: get("/parties/gate/g1", { method: "POST", body: "orig" }) },
  {
    group: "onBefore*",
    name: "onBeforeConnect throws -> 401",
    run: sockets(async (pool) => [await pool.connect("c", "/parties/gate/g2?deny=1")]),
  },
  {
    group: "onBefore*",
    name: "onBeforeConnect returns Response",
    run: sockets(async (pool) => [await pool.connect("c", "/parties/gate/g2?block=1")]),
  },
  {
    group: "onBefore*",
    name: "onBeforeConnect returns new Request",
    run: sockets(async (pool) => [await pool.connect("c", "/parties/gate/g2?rewrite=1&_pk=rw", {}, 2)]),
  },
  {
    group: "onBefore*",
    name: "onBeforeConnect adds a header",
    run: sockets(async (pool) => [await pool.connect("c", "/parties/gate/g2?_pk=hdr", {}, 2)]),
  },
  // ---- WebSocket --------------------------------------------------------------------------------------
  { group: "websocket", name: "id from _pk, uri with query", run: conversation("/parties/main/w1/sub?_pk=abc&x=1", []) },
  { group: "websocket", name: "id without _pk (UUID)", run: conversation("/parties/main/w1", []) },
  { group: "websocket", name: "legacy /party/:room socket", run: conversation("/party/w1?_pk=old", []) },
  {
    group: "websocket",
    name: "text echo and unknown command",
    run: conversation("/parties/main/w2?_pk=t", [["echo hi there", 1], ["whatever", 1], ["echo ünïcødé 😀", 1]]),
  },
  { group: "websocket", name: "binary echo (ArrayBuffer)", run: conversation("/parties/main/w2?_pk=b", [[new Uint8Array([1, 2, 3, 255]), 2], [new Uint8Array(0), 2]]) },
  {
    group: "websocket",
    name: "broadcast with without",
    run: sockets(async (pool) => {
      const a = await pool.connect("a", "/parties/main/w3?_pk=a", {}, 2);
      const b = await pool.connect("b", "/parties/main/w3?_pk=b", {}, 2);
      const c = await pool.connect("c", "/parties/main/w3?_pk=c", {}, 2);
      await a.send("broadcast hi", 0);
      await Promise.all([b.more(), c.more()]);
      await a.send("broadcast-all all", 1);
      await Promise.all([b.more(), c.more()]);
      await a.settle(200);
      return [a, b, c];
    }),
  },
  {
    group: "websocket",
    name: "getConnections with tags, getConnection",
    run: sockets(async (pool) => {
      const a = await pool.connect("a", "/parties/main/w4?_pk=a&tag=red&tag=blue", {}, 2);
      await pool.connect("b", "/parties/main/w4?_pk=b&tag=red", {}, 2);
      await pool.connect("c", "/parties/main/w4?_pk=c", {}, 2);
      for (const m of ["ids", "ids red", "ids blue", "ids c", "ids none", "get b", "get zzz"]) await a.send(m);
      return [a];
    }),
  },
  {
    group: "websocket",
    name: "ten tags (one is the id) without hibernation",
    run: sockets(async (pool) => {
      const tags = Array.from({ length: 10 }, (_, i) => `&tag=t${i}`).join("");
      const a = await pool.connect("a", `/parties/main/w4b?_pk=a${tags}&tag=a`, {}, 2);
      await a.send("ids t9");
      return [a];
    }),
  },
  {
    group: "websocket",
    name: "setState / state / updater / null",
    run: conversation("/parties/main/w5?_pk=s", [
      ["state", 1],
      ['setstate {"a":1}', 1],
      ["update", 1],
      ["update", 1],
      ["setstate null", 1],
      ["state", 1],
    ]),
  },
  {
    group: "websocket",
    name: "attachment separate from state (non-hibernating)",
    run: conversation("/parties/main/w5?_pk=att", [['setstate {"s":1}', 1], ["attachment x", 1]]),
  },
  { group: "websocket", name: "large state without hibernation", run: conversation("/parties/main/w5?_pk=big", [["bigstate 5000", 1]]) },
  { group: "websocket", name: "server close() without code", run: conversation("/parties/main/w6?_pk=c", [["close", 1]]) },
  { group: "websocket", name: "server close(4002, reason)", run: conversation("/parties/main/w6?_pk=c", [["close-code", 1]]) },
  {
    group: "websocket",
    name: "send after close throws",
    run: sockets(async (pool) => {
      const a = await pool.connect("a", "/parties/main/w7?_pk=a", {}, 2);
      const b = await pool.connect("b", "/parties/main/w7?_pk=b", {}, 2);
      await b.send("close-then-send", 1);
      await a.waitFor(/close-then-send/);
      await a.waitFor(/left b/);
      return [a, b];
    }),
  },
  {
    group: "websocket",
    name: "onConnect throws -> 1011",
    run: sockets(async (pool) => {
      const c = pool.open("c", "/parties/main/w8?fail=connect");
      await c.waitFor(/^close/);
      return [c];
    }),
  },
  {
    group: "websocket",
    name: "frame of exactly 1 MiB passes",
    run: conversation("/parties/main/w9?_pk=m", [["x".repeat(MIB), 1]]),
  },
  {
    group: "websocket",
    name: "text frame over 1 MiB -> 1009, others unaffected",
    known: TOO_LARGE,
    run: sockets(async (pool) => {
      const a = await pool.connect("a", "/parties/main/w10?_pk=a", {}, 2);
      const b = await pool.connect("b", "/parties/main/w10?_pk=b", {}, 2);
      await a.send("x".repeat(MIB + 1), 1, 5_000);
      await b.waitFor(/(error|left) a/);
      await b.settle(300);
      await b.send("echo still here");
      return [a, b];
    }),
  },
  {
    group: "websocket",
    name: "binary frame over 1 MiB -> 1009",
    known: TOO_LARGE,
    run: sockets(async (pool) => {
      const a = await pool.connect("a", "/parties/main/w11?_pk=a", {}, 2);
      await a.send(new Uint8Array(MIB + 10), 1, 5_000);
      return [a];
    }),
  },
  {
    group: "websocket",
    name: "client close -> onClose seen by others",
    run: sockets(async (pool) => {
      const a = await pool.connect("a", "/parties/main/w12?_pk=a", {}, 2);
      const b = await pool.connect("b", "/parties/main/w12?_pk=b", {}, 2);
      a.ws.close(1000, "bye");
      await b.waitFor(/left a/);
      return [b];
    }),
  },
  {
    group: "websocket",
    name: "client drops TCP -> onClose seen by others",
    run: sockets(async (pool) => {
      const a = await pool.connect("a", "/parties/main/w13?_pk=a", {}, 2);
      const b = await pool.connect("b", "/parties/main/w13?_pk=b", {}, 2);
      a.terminate();
      await b.waitFor(/left a/);
      return [b];
    }),
  },
  { group: "websocket", name: "party without onRequest accepts sockets", run: conversation("/parties/nohandler/n2?_pk=n", []) },
  {
    group: "websocket",
    name: "upgrade to unknown party",
    run: sockets(async (pool) => [await pool.connect("c", "/parties/unknown/r1")]),
  },
  {
    group: "websocket",
    name: "upgrade to empty room /parties/main/",
    run: sockets(async (pool) => [await pool.connect("c", "/parties/main/")]),
  },
  {
    group: "websocket",
    name: "upgrade to non-room path, onFetch returns null",
    run: sockets(async (pool) => [await pool.connect("c", "/nothing/here")]),
  },
  {
    group: "websocket",
    name: "upgrade to non-room path that onFetch answers",
    run: sockets(async (pool) => [await pool.connect("c", "/fetch/ws")]),
  },
  // ---- hibernating connections ------------------------------------------------------------------------
  // Patterns of real apps (issue 9): sharding through stub.fetch, WebSocketPair, environment.
  {
    group: "patterns",
    name: "onBeforeConnect returns stub.fetch(upgrade): the client joins the shard room",
    run: sockets(async (pool) => {
      const c = await pool.connect("c", "/parties/patterns/lobby?shard=1&_pk=sc", {}, 2);
      await c.send("hi", 1);
      return [c];
    }),
  },
  {
    group: "patterns",
    name: "onBeforeConnect returns a WebSocketPair end that closes 4001",
    run: sockets(async (pool) => {
      const c = pool.open("c", "/parties/patterns/lobby?reject=1");
      await c.waitFor(/^close/);
      return [c];
    }),
  },
  { group: "patterns", name: "a plain connect still reaches the router room", run: conversation("/parties/patterns/lobby?_pk=p", []) },
  {
    group: "patterns",
    name: "process.env (.env) read dotted, dynamic and listed; --var and vars types",
    run: get("/parties/patterns/env"),
    known: {
      why: "partyhouse also lists .env keys in Object.keys(process.env), which SDKs enumerate (issue 9)",
      partyhouse: /^200 \{"dotted":"from-dotenv","dynamic":"from-dotenv","listed":true,"varType":"string","varValue":"5","configVarType":"number","urlPattern":"function"\}$/,
    },
  },
  {
    group: "hibernation",
    name: "state round-trip, in-place mutation kept, attachment = state",
    run: conversation("/parties/hib/h1?_pk=s", [
      ['setstate {"n":1}', 1],
      ["mutate", 1],
      ["attachment x", 1],
      ["setstate null", 1],
    ]),
  },
  { group: "hibernation", name: "2 KB attachment limit (2100-char state)", run: conversation("/parties/hib/h2?_pk=h", [["bigstate 100", 1], ["bigstate 2100", 1]]) },
  {
    group: "hibernation",
    name: "2 KB limit counts the URI (1500-char query)",
    run: conversation(`/parties/hib/h3?_pk=h&pad=${"p".repeat(1500)}`, [["bigstate 700", 1], ["bigstate 300", 1]]),
  },
  {
    group: "hibernation",
    name: "nine tags plus the id given as a tag",
    run: sockets(async (pool) => {
      const tags = Array.from({ length: 9 }, (_, i) => `&tag=t${i}`).join("");
      const a = await pool.connect("a", `/parties/hib/h5b?_pk=a${tags}&tag=a`, {}, 2);
      await a.send("ids t8");
      return [a];
    }),
  },
  {
    group: "hibernation",
    name: "tag over 256 characters -> 1011",
    run: sockets(async (pool) => {
      const c = pool.open("c", `/parties/hib/h6?_pk=t&tag=${"x".repeat(257)}`);
      await c.waitFor(/^close|^http|^error/);
      return [c];
    }),
  },
  { group: "hibernation", name: "binary arrives as ArrayBuffer", run: conversation("/parties/hib/h4?_pk=b", [[new Uint8Array([9, 8, 7]), 2]]) },
  {
    group: "hibernation",
    name: "tags and getConnections",
    run: sockets(async (pool) => {
      const a = await pool.connect("a", "/parties/hib/h5?_pk=a&tag=red", {}, 2);
      await pool.connect("b", "/parties/hib/h5?_pk=b&tag=red&tag=blue", {}, 2);
      for (const m of ["ids", "ids red", "ids blue", "ids b", "get a", "get zzz"]) await a.send(m);
      return [a];
    }),
  },
  {
    group: "hibernation",
    name: "too many tags -> 1011",
    run: sockets(async (pool) => {
      const c = pool.open("c", "/parties/hib/h6?_pk=t&tags=10");
      await c.waitFor(/^close|^http|^error/);
      return [c];
    }),
  },
  {
    group: "hibernation",
    name: "empty tag -> 1011",
    run: sockets(async (pool) => {
      const c = pool.open("c", "/parties/hib/h6?_pk=t&tag=");
      await c.waitFor(/^close|^http|^error/);
      return [c];
    }),
  },
  {
    group: "hibernation",
    name: "broadcast after closing a socket does not throw",
    run: sockets(async (pool) => {
      const a = await pool.connect("a", "/parties/hib/h7?_pk=a", {}, 2);
      const b = await pool.connect("b", "/parties/hib/h7?_pk=b", {}, 2);
      await b.send("close-then-broadcast", 1);
      await a.waitFor(/close-then-broadcast/);
      await a.waitFor(/left b/);
      return [a, b];
    }),
  },
  {
    group: "hibernation",
    name: "client close -> onClose seen by others",
    run: sockets(async (pool) => {
      const a = await pool.connect("a", "/parties/hib/h8?_pk=a", {}, 2);
      const b = await pool.connect("b", "/parties/hib/h8?_pk=b", {}, 2);
      a.ws.close(1000, "bye");
      await b.waitFor(/left a/);
      return [b];
    }),
  },
  {
    group: "hibernation",
    name: "frame over 1 MiB",
    known: TOO_LARGE,
    run: sockets(async (pool) => {
      const a = await pool.connect("a", "/parties/hib/h10?_pk=a", {}, 2);
      const b = await pool.connect("b", "/parties/hib/h10?_pk=b", {}, 2);
      a.ws.send("x".repeat(MIB + 1));
      await b.waitFor(/(error|left) a/);
      // partykit dev sends this close about 10 s late in hibernating rooms (at once otherwise).
      await a.waitFor(/^close/, 15_000);
      await b.send("ids");
      return [a, b];
    }),
  },
  { group: "hibernation", name: "server close(4001, reason)", run: conversation("/parties/hib/h9?_pk=c", [["close", 1]]) },
  // ---- storage ----------------------------------------------------------------------------------------
  { group: "storage", name: "get/put/delete/list basics", run: get("/parties/store/s1?do=basics") },
  { group: "storage", name: "list order and options", run: get("/parties/store/s2?do=order") },
  { group: "storage", name: "structured-clone values", run: get("/parties/store/s3?do=values") },
  { group: "storage", name: "limits and their errors", run: get("/parties/store/s4?do=limits") },
  { group: "storage", name: "transaction, rollback, deleteAll", run: get("/parties/store/s5?do=transaction") },
  { group: "storage", name: "un-awaited writes are visible", run: get("/parties/store/s6?do=unawaited") },
  // ---- room.context.parties ---------------------------------------------------------------------------
  { group: "parties", name: "stub.fetch(path, init)", run: get("/parties/main/c1?do=call-other") },
  { group: "parties", name: "stub.fetch(Request)", run: get("/parties/main/c1?do=call-request") },
  { group: "parties", name: "stub.fetch skips onBeforeRequest", run: get("/parties/main/c1?do=call-gate") },
  { group: "parties", name: "stub.fetch path without /", run: get("/parties/main/c1?do=call-bad-path") },
  { group: "parties", name: "parties.main is there", run: get("/parties/main/c1?do=call-main") },
  { group: "parties", name: "stub.socket(path)", run: get("/parties/main/c1?do=socket-other") },
  // ---- workerd's input gate, and what send() does with non-strings (issue 18) ---------------------------
  {
    group: "input gate",
    name: "20 concurrent POSTs while onStart awaits: get, +1, put never interleave",
    run: async (t) => {
      const posts = Array.from({ length: 20 }, () => http(t.origin, "/parties/racecount/rc1", { method: "POST" }));
      const acks = (await Promise.all(posts)).map((answer) => answer.replace(/^200 /, ""));
      // Sorted: which request got which number is up to the network; the set is the point.
      acks.sort((a, b) => Number(a) - Number(b) || a.localeCompare(b));
      return `acks ${acks.join(",")}${SEP}final ${await http(t.origin, "/parties/racecount/rc1")}`;
    },
  },
  {
    group: "input gate",
    name: "five messages at once from one client: broadcasts in order",
    run: sockets(async (pool) => {
      const c = await pool.connect("c", "/parties/racemsg/rm1?_pk=c");
      for (let i = 0; i < 5; i++) c.ws.send("inc");
      await c.until((events) => events.length >= 6);
      return [c];
    }),
  },
  {
    group: "input gate",
    name: "one message each from five clients at once: values seen",
    run: sockets(async (pool) => {
      const clients: RecordingClient[] = [];
      for (const name of ["a", "b", "c", "d", "e"]) clients.push(await pool.connect(name, `/parties/racemsg/rm2?_pk=${name}`));
      for (const client of clients) client.ws.send("inc");
      await Promise.all(clients.map((client) => client.until((events) => events.length >= 6)));
      // Sorted per client: the order broadcasts from different senders arrive in may vary.
      return clients.map((client) => `${client.name}: ${client.events.slice(1).sort().join(",")}`);
    }),
  },
  {
    group: "send",
    name: "send(42, true, null, {a:1}, [1,2], undefined) and broadcast(7) from onConnect",
    run: sockets(async (pool) => {
      const c = await pool.connect("c", "/parties/sendconv/sc1?_pk=c&onconnect=1");
      await c.waitFor(/^"done"$|^close/);
      return [c];
    }),
  },
  {
    group: "send",
    name: "send(42, true, null, {a:1}, [1,2], undefined) and broadcast(7) on a message",
    run: sockets(async (pool) => {
      const c = await pool.connect("c", "/parties/sendconv/sc2?_pk=c");
      c.ws.send("send-all");
      await c.waitFor(/^"done"$|^close/);
      return [c];
    }),
  },
  // ---- where spec section 10 asks for better ------------------------------------------------------------
  {
    group: "spec 10",
    name: "onStart gates a concurrent request",
    run: async (t) => {
      const [first, second] = await Promise.all([
        http(t.origin, "/parties/slowstart/ss1?n=1"),
        new Promise((resolve) => setTimeout(resolve, 100)).then(() => http(t.origin, "/parties/slowstart/ss1?n=2")),
      ]);
      return `${first}${SEP}${second}`;
    },
    spec10: { topic: "onStart gating", partyhouse: /^200 ready true starts 1 ‖ 200 ready true starts 1$/ },
  },
  {
    group: "spec 10",
    name: "onStart throws, then is retried",
    run: async (t) => `${await http(t.origin, "/parties/failstart/fs1")}${SEP}${await http(t.origin, "/parties/failstart/fs1")}`,
    spec10: { topic: "onStart gating (retry after failure)", partyhouse: /^500 start exploded ‖ 200 started true$/ },
  },
  {
    group: "spec 10",
    name: "room.id and context.parties in onAlarm",
    run: async (t) => {
      const set = await http(t.origin, "/parties/alarm/a1?do=set");
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      return `${set}${SEP}${await http(t.origin, "/parties/alarm/a1?do=get")}`;
    },
    spec10: { topic: "room.id in onAlarm", partyhouse: /"id":"a1","parties":"alarm,failstart,gate,hib,main,[a-z,]*store"/ },
  },
  {
    group: "spec 10",
    name: "duplicate _pk (non-hibernating)",
    run: sockets(async (pool) => {
      const first = await pool.connect("first", "/parties/main/d1?_pk=same", {}, 2);
      const second = await pool.connect("second", "/parties/main/d1?_pk=same", {}, 2);
      const o = await pool.connect("o", "/parties/main/d1?_pk=obs", {}, 2);
      await o.send("ids", 1);
      first.terminate();
      await o.waitFor(/left same/);
      await o.send("ids", 1);
      await o.send("broadcast-all ping", 1);
      await second.waitFor(/ping/, 1_000);
      return [o, second];
    }),
    spec10: { topic: "duplicate _pk", partyhouse: /"ids obs,same,same" \| "left same remaining obs,same" \| "ids obs,same".*second: .*broadcast-all ping/ },
  },
  {
    group: "spec 10",
    name: "duplicate _pk getConnection (hibernating)",
    run: sockets(async (pool) => {
      await pool.connect("first", "/parties/hib/d2?_pk=same", {}, 2);
      await pool.connect("second", "/parties/hib/d2?_pk=same", {}, 2);
      const o = await pool.connect("o", "/parties/hib/d2?_pk=obs", {}, 2);
      await o.send("get same", 1);
      await o.send("ids same", 1);
      return [o];
    }),
    spec10: { topic: "duplicate _pk", partyhouse: /"get same" \| "ids same,same"/ },
  },
  {
    group: "spec 10",
    name: "broadcast after closing a socket (non-hibernating)",
    run: sockets(async (pool) => {
      const a = await pool.connect("a", "/parties/main/b1?_pk=a", {}, 2);
      const b = await pool.connect("b", "/parties/main/b1?_pk=b", {}, 2);
      await b.send("close-then-broadcast", 1);
      await a.waitFor(/close-then-broadcast/);
      await a.waitFor(/left b/);
      return [a, b];
    }),
    spec10: { topic: "broadcast to CLOSING sockets", partyhouse: /close-then-broadcast: broadcast ok/ },
  },
  {
    group: "spec 10",
    name: "client-initiated close handshake",
    run: sockets(async (pool) => {
      const a = await pool.connect("a", "/parties/main/h1?_pk=a", {}, 2);
      a.ws.close(1000, "bye");
      await a.waitFor(/^close/, 1_500);
      return [a];
    }),
    spec10: { topic: "client close handshake", partyhouse: /^a: open \| "hello a \/parties\/main\/h1\?_pk=a" \| close 1000 "bye"$/ },
  },
  {
    group: "spec 10",
    name: "subprotocol offered by the client",
    run: sockets(async (pool) => {
      const c = await pool.connect("c", "/parties/main/p1?_pk=p", { protocols: ["p1", "p2"] }, 2);
      return [c, `protocol=${c.ws.protocol}`];
    }),
    spec10: { topic: "subprotocols", partyhouse: /open \| "hello p .*protocol=p1$/ },
  },
];

const legacy: Array<Omit<Probe, "project">> = [
  { group: "legacy API", name: "onRequest(req, room)", run: get("/parties/main/l1/x?y=1", { method: "POST", body: "hi" }) },
  { group: "legacy API", name: "onBeforeRequest throws -> 401", run: get("/parties/main/l1?deny=1") },
  { group: "legacy API", name: "unstable_onFetch", run: get("/somewhere?q=1") },
  { group: "legacy API", name: "unstable_onFetch returns null", run: get("/legacy-null") },
  { group: "legacy API", name: "object without onRequest", run: get("/parties/listener/x1") },
  {
    group: "legacy API",
    name: "onConnect/onMessage/onClose(conn, room)",
    run: sockets(async (pool) => {
      const a = await pool.connect("a", "/parties/main/l2?_pk=a", {}, 2);
      const b = await pool.connect("b", "/parties/main/l2?_pk=b", {}, 2);
      await a.send("hi", 1);
      await b.more();
      await a.send("ids", 1);
      await a.send(new Uint8Array([1]), 1);
      a.ws.close(1000);
      await b.waitFor(/left a/);
      return [b];
    }),
  },
  {
    group: "legacy API",
    name: "onMessage implies hibernation (2 KB state)",
    run: conversation("/parties/main/l3?_pk=h", [["bigstate 100", 1], ["bigstate 2100", 1]]),
  },
  {
    group: "legacy API",
    name: "only onConnect + addEventListener (no hibernation)",
    run: sockets(async (pool) => {
      const a = await pool.connect("a", "/parties/listener/l4?_pk=a", {}, 2);
      const b = await pool.connect("b", "/parties/listener/l4?_pk=b", {}, 2);
      await a.send("yo", 1);
      await a.send("bigstate 5000", 1);
      await a.send(new Uint8Array([1, 2]), 1);
      a.ws.close(1000);
      await b.waitFor(/left a/);
      return [`a: ${a.events.slice(0, 5).join(" | ")}`, b];
    }),
  },
];

export const probes: Probe[] = [
  ...rooms.map((probe) => ({ ...probe, project: "rooms" as const })),
  ...legacy.map((probe) => ({ ...probe, project: "legacy" as const })),
];
