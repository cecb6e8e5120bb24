/**
 * The placement contract (not a test file itself): one suite that every Placement runs
 * (src/cluster/placement-contract.test.ts runs it against the single-process placement, the
 * PostgreSQL directory and the database-free StaticCluster), as the storage engines share theirs.
 * The rule it checks: a room is held by at most one node at a time, and every claim of a room
 * has a larger epoch than the claims before it. A property test drives random claims, releases,
 * hand-offs and losses against a small model of that rule.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { RoomRef } from "../storage/engine.js";
import type { Placement, RoomLocation } from "./placement.js";

export interface PlacementNodes {
  /** The nodes of one placement (one cluster); a single-process placement has one. */
  readonly nodes: readonly Placement[];
  /**
   * Another node takes the room over as a takeover would (the holder's lease lapsed for it) and
   * the old holder learns of it the way it does in production; absent where rooms cannot be lost.
   * Returns the new holder's claim.
   */
  takeOver?(room: RoomRef, from: number, to: number): Promise<RoomLocation>;
  stop(): Promise<void>;
}

export interface PlacementUnderTest {
  readonly name: string;
  /** Starts `count` nodes (at most `maxNodes`). */
  start(count: number): Promise<PlacementNodes>;
  readonly maxNodes: number;
  /** Runs of the property test (a database-backed placement affords fewer). */
  readonly propertyRuns: number;
}

let rooms = 0;
/** A room no earlier test of this process used. */
function freshRoom(): RoomRef {
  return { party: "main", room: `contract-${process.pid}-${++rooms}` };
}

async function withNodes(impl: PlacementUnderTest, count: number, test: (nodes: PlacementNodes) => Promise<void>): Promise<void> {
  const nodes = await impl.start(count);
  try {
    await test(nodes);
  } finally {
    await nodes.stop();
  }
}

function epochOf(location: RoomLocation): number {
  assert.equal(location.kind, "local", `expected a local claim, got ${JSON.stringify(location)}`);
  return (location as Extract<RoomLocation, { kind: "local" }>).epoch;
}

export function placementContract(impl: PlacementUnderTest): void {
  describe(`placement contract: ${impl.name}`, () => {
    it("claims a room nobody holds; claiming it again gives the same epoch; locate says local", () =>
      withNodes(impl, 1, async ({ nodes: [a] }) => {
        const room = freshRoom();
        const epoch = epochOf(await a!.acquire(room));
        assert.equal(epochOf(await a!.acquire(room)), epoch);
        assert.deepEqual(await a!.locate(room), { kind: "local", epoch });
        assert.equal(a!.holdsLease(), true);
      }));

    it("a room released and claimed again gets a larger epoch", () =>
      withNodes(impl, 1, async ({ nodes: [a] }) => {
        const room = freshRoom();
        const first = epochOf(await a!.acquire(room));
        await a!.release(room, Promise.resolve());
        assert.ok(epochOf(await a!.acquire(room)) > first);
      }));

    it("a claim waits for a release of the room still in progress (its old instance flushing)", () =>
      withNodes(impl, 1, async ({ nodes: [a] }) => {
        const room = freshRoom();
        const first = epochOf(await a!.acquire(room));
        let flushed!: () => void;
        const releasing = a!.release(room, new Promise<void>((resolve) => (flushed = resolve)));
        let claimed = false;
        const claim = a!.acquire(room).then((location) => ((claimed = true), location));
        await new Promise((resolve) => setTimeout(resolve, 30));
        assert.equal(claimed, false, "no claim while the old instance is flushing");
        flushed();
        await releasing;
        assert.ok(epochOf(await claim) > first);
      }));

    it("property: random claims, releases, hand-offs and losses keep one holder per room and rising epochs", () =>
      withNodes(impl, Math.min(2, impl.maxNodes), async (placement) => modelCheck(placement, impl.propertyRuns)));

    if (impl.maxNodes < 2) return;

    it("a room held by another node is remote there, for a claim and for locate", () =>
      withNodes(impl, 2, async ({ nodes: [a, b] }) => {
        const room = freshRoom();
        epochOf(await a!.acquire(room));
        for (const location of [await b!.acquire(room), await b!.locate(room, { claimHere: true })]) {
          assert.equal(location.kind, "remote");
          assert.equal(location.kind === "remote" && location.nodeId, a!.nodeId);
        }
      }));

    it("released by one node, the room is claimed by another with a larger epoch", () =>
      withNodes(impl, 2, async ({ nodes: [a, b] }) => {
        const room = freshRoom();
        const first = epochOf(await a!.acquire(room));
        await a!.release(room, Promise.resolve());
        assert.ok(epochOf(await b!.acquire(room)) > first);
        assert.equal((await a!.acquire(room)).kind, "remote");
      }));

    it("a hand-off drops the room here first, then gives it to the other node", () =>
      withNodes(impl, 2, async ({ nodes: [a, b] }) => {
        const room = freshRoom();
        const first = epochOf(await a!.acquire(room));
        let dropped = false;
        await a!.handOff(room, b!.nodeId, async () => void (dropped = true));
        assert.equal(dropped, true);
        assert.ok(epochOf(await b!.acquire(room)) > first);
        const back = await a!.acquire(room);
        assert.equal(back.kind === "remote" && back.nodeId, b!.nodeId);
      }));

    it("a room taken over is reported lost to its old holder, which no longer claims it", async (t) => {
      await withNodes(impl, 2, async ({ nodes: [a, b], takeOver }) => {
        if (takeOver === undefined) return t.skip("rooms of this placement cannot be lost");
        const lost: RoomRef[] = [];
        a!.onLost((room) => lost.push(room));
        const room = freshRoom();
        const first = epochOf(await a!.acquire(room));
        assert.ok(epochOf(await takeOver(room, 0, 1)) > first);
        assert.deepEqual(lost, [room]);
        const after = await a!.acquire(room);
        assert.equal(after.kind === "remote" && after.nodeId, b!.nodeId);
      });
    });
  });
}

type Op =
  | { readonly kind: "acquire"; readonly node: number; readonly room: number }
  | { readonly kind: "release"; readonly node: number; readonly room: number }
  | { readonly kind: "handOff"; readonly node: number; readonly room: number }
  | { readonly kind: "lose"; readonly room: number };

/** What the model knows of a room: who holds it, at which epoch (undefined: handed over, not claimed yet). */
interface ModelRoom {
  holder: number | undefined;
  epoch: number | undefined;
  /** The largest epoch any claim of the room was given. */
  last: number;
}

async function modelCheck(placement: PlacementNodes, runs: number): Promise<void> {
  const { nodes, takeOver } = placement;
  const roomCount = 3;
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant("acquire" as const), node: fc.nat(nodes.length - 1), room: fc.nat(roomCount - 1) }),
    fc.record({ kind: fc.constant("release" as const), node: fc.nat(nodes.length - 1), room: fc.nat(roomCount - 1) }),
    fc.record({ kind: fc.constant("handOff" as const), node: fc.nat(nodes.length - 1), room: fc.nat(roomCount - 1) }),
    fc.record({ kind: fc.constant("lose" as const), room: fc.nat(roomCount - 1) }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(op, { maxLength: 24 }), async (ops) => {
      const refs = Array.from({ length: roomCount }, () => freshRoom());
      const model: ModelRoom[] = refs.map(() => ({ holder: undefined, epoch: undefined, last: 0 }));
      for (const step of ops) {
        const ref = refs[step.room]!;
        const room = model[step.room]!;
        if (step.kind === "acquire") {
          const location = await nodes[step.node]!.acquire(ref);
          if (location.kind === "remote") {
            assert.notEqual(room.holder, undefined, `${ref.room}: remote although nobody holds it`);
            assert.notEqual(room.holder, step.node, `${ref.room}: remote at ${location.nodeId} although node ${step.node} holds it`);
            assert.equal(location.nodeId, nodes[room.holder!]!.nodeId, `${ref.room}: remote at the wrong node`);
            continue;
          }
          const free = room.holder === undefined || room.holder === step.node;
          assert.ok(free, `${ref.room}: claimed by node ${step.node} while node ${room.holder} holds it`);
          if (room.holder === step.node && room.epoch !== undefined) {
            assert.equal(location.epoch, room.epoch, `${ref.room}: a held room's epoch changed`);
          } else {
            assert.ok(location.epoch > room.last, `${ref.room}: a new claim's epoch ${location.epoch} is not above ${room.last}`);
          }
          Object.assign(room, { holder: step.node, epoch: location.epoch, last: Math.max(room.last, location.epoch) });
        } else if (step.kind === "release") {
          await nodes[step.node]!.release(ref, Promise.resolve());
          // A room handed here and not claimed yet is not held here: nothing to release.
          if (room.holder === step.node && room.epoch !== undefined) Object.assign(room, { holder: undefined, epoch: undefined });
        } else if (step.kind === "handOff") {
          const to = nodes.length > 1 ? 1 - step.node : undefined;
          await nodes[step.node]!.handOff(ref, to === undefined ? "nowhere" : nodes[to]!.nodeId, async () => {});
          if (room.holder === step.node && room.epoch !== undefined) Object.assign(room, { holder: to, epoch: undefined });
        } else if (takeOver !== undefined && room.holder !== undefined && room.epoch !== undefined && nodes.length > 1) {
          const to = 1 - room.holder;
          const location = await takeOver(ref, room.holder, to);
          const epoch = epochOf(location);
          assert.ok(epoch > room.last, `${ref.room}: a takeover's epoch ${epoch} is not above ${room.last}`);
          Object.assign(room, { holder: to, epoch, last: epoch });
        }
      }
    }),
    { numRuns: runs },
  );
}
