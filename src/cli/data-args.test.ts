import assert from "node:assert/strict";
import { test } from "node:test";
import { parseCli, UsageError } from "./args.js";

test("data commands take their own options", () => {
  assert.deepEqual(parseCli(["backup", "b.jsonl.gz", "--admin", "http://127.0.0.1:9090"]), {
    kind: "data",
    op: "backup",
    file: "b.jsonl.gz",
    admin: "http://127.0.0.1:9090",
    readable: false,
    replace: false,
    force: false,
  });
  assert.deepEqual(parseCli(["export", "--party", "main", "--prefix", "team-", "--readable"]), {
    kind: "data",
    op: "export",
    file: "-",
    party: "main",
    prefix: "team-",
    readable: true,
    replace: false,
    force: false,
  });
  const migrate = parseCli(["migrate", "--from", ".partyhouse", "--to", "postgres://db/x", "--force"]);
  assert.equal(migrate.kind === "data" && migrate.force && migrate.to, "postgres://db/x");
  assert.deepEqual(parseCli(["restore", "--help"]), { kind: "help", topic: "data" });
  assert.deepEqual(parseCli(["help", "migrate"]), { kind: "help", topic: "data" });
});

test("data command usage errors are one line", () => {
  const usage = (argv: string[], pattern: RegExp) =>
    assert.throws(() => parseCli(argv), (error: unknown) => error instanceof UsageError && pattern.test(error.message) && !error.message.includes("\n"));
  usage(["backup"], /backup needs a file/);
  usage(["backup", "-"], /backup writes a file/);
  usage(["restore", "x", "--party", "main"], /unknown or incomplete option --party \(usage: partyhouse restore/);
  usage(["import", "x", "--readable"], /unknown or incomplete option --readable/);
  usage(["migrate", "--from", "a"], /migrate needs --from and --to/);
  usage(["export", "--from", "a", "--admin", "http://x:1"], /not both/);
  usage(["export", "--admin", "localhost:9090"], /--admin takes the admin listener's URL/);
  usage(["import", "a", "b"], /too many arguments/);
});
