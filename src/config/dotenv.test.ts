import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDotenv } from "./dotenv.js";

test("plain pairs, comments, blank lines and the export prefix", () => {
  const text = [
    "# a comment",
    "",
    "A=1",
    "export B=two",
    "  C = spaced  ",
    "D=value # trailing comment",
    "E=has#hash",
    "not a pair",
    "F=",
  ].join("\n");
  assert.deepEqual(parseDotenv(text), { A: "1", B: "two", C: "spaced", D: "value", E: "has#hash", F: "" });
});

test("quotes: single is literal, double expands escapes, both keep # and spaces", () => {
  const text = [
    `S='a \\n # b'`,
    `D="line1\\nline2 # not a comment"`,
    'Q="say \\"hi\\""',
    "B=`back tick`",
  ].join("\n");
  assert.deepEqual(parseDotenv(text), {
    S: "a \\n # b",
    D: "line1\nline2 # not a comment",
    Q: 'say "hi"',
    B: "back tick",
  });
});

test("a double-quoted value may span lines, and CRLF files parse", () => {
  const text = 'KEY="-----BEGIN-----\r\nabc\r\n-----END-----"\r\nNEXT=ok\r\n';
  assert.deepEqual(parseDotenv(text), { KEY: "-----BEGIN-----\nabc\n-----END-----", NEXT: "ok" });
});

test("later lines win and invalid keys are skipped", () => {
  assert.deepEqual(parseDotenv("A=1\nA=2\n1BAD=x\nGOOD.KEY=y"), { A: "2", "GOOD.KEY": "y" });
});
