/**
 * mergeWorkerMetrics: every sample carries its worker, each family's samples stay together
 * under one HELP and one TYPE, histogram series (_bucket, _sum, _count) stay with their family.
 */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import { mergeWorkerMetrics, withWorkerLabel } from "./metrics-merge.js";

const worker = (rooms: number, commits: number) => `# HELP partyhouse_rooms Rooms.
# TYPE partyhouse_rooms gauge
partyhouse_rooms{party="main"} ${rooms}
# HELP partyhouse_storage_commit_seconds Commits.
# TYPE partyhouse_storage_commit_seconds histogram
partyhouse_storage_commit_seconds_bucket{le="0.001"} ${commits}
partyhouse_storage_commit_seconds_bucket{le="+Inf"} ${commits}
partyhouse_storage_commit_seconds_sum 0.5
partyhouse_storage_commit_seconds_count ${commits}
# HELP process_cpu_seconds_total CPU.
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 1.5
`;

test("labels every sample with its worker", () => {
  assert.equal(withWorkerLabel('a{b="c"} 1', 3), 'a{worker="3",b="c"} 1');
  assert.equal(withWorkerLabel("a 1", 3), 'a{worker="3"} 1');
  assert.equal(withWorkerLabel("a{} 1", 3), 'a{worker="3"} 1');
});

test("keeps each family together under one HELP and TYPE, with every worker's samples", () => {
  const merged = mergeWorkerMetrics([
    { worker: 0, text: worker(2, 5) },
    { worker: 1, text: worker(7, 9) },
  ]);
  const lines = merged.trim().split("\n");
  assert.equal(lines.filter((line) => line.startsWith("# TYPE partyhouse_rooms ")).length, 1);
  assert.equal(lines.filter((line) => line.startsWith("# HELP partyhouse_rooms ")).length, 1);
  // Families appear once, each followed by all of its samples before the next family begins.
  const order: string[] = [];
  for (const line of lines) {
    const family = line.startsWith("# TYPE ") ? line.split(" ")[2]! : undefined;
    if (family !== undefined) order.push(family);
    else if (!line.startsWith("#")) assert.ok(line.startsWith(order.at(-1)!), `${line} sits under ${order.at(-1)}`);
  }
  assert.deepEqual(order, ["partyhouse_rooms", "partyhouse_storage_commit_seconds", "process_cpu_seconds_total"]);
  assert.ok(lines.includes('partyhouse_rooms{worker="0",party="main"} 2'));
  assert.ok(lines.includes('partyhouse_rooms{worker="1",party="main"} 7'));
  assert.ok(lines.includes('partyhouse_storage_commit_seconds_count{worker="1"} 9'));
  assert.ok(lines.includes('process_cpu_seconds_total{worker="0"} 1.5'));
  for (const line of lines) if (!line.startsWith("#")) assert.match(line, /\{worker="[01]"/);
});
