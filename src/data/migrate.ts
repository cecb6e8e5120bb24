/**
 * `migrate`: one store into another (a data folder into a cluster database, or back), then
 * verified room by room (count and SHA-256 on both sides, verify.ts).
 *
 * The target must be empty, or hold the mark of an interrupted migrate from the same source,
 * which resumes after the last room it completed (rooms are copied in order, each one emptied
 * before its first batch, so a half-written room is written again). The mark is set before the
 * first write and removed only after verification passed: until then partyhouse refuses to
 * serve the target. Rooms that differ at verification (the source changed between an
 * interrupted run and this one) are copied again and checked again.
 */
import { copyInto, type CopyProgress } from "./copy.js";
import type { RoomRef } from "../storage/engine.js";
import { RefusedError, describeMark } from "./refused.js";
import type { IncompleteMark, Store, StoreReader } from "./store.js";
import { compareStores, type Verification } from "./verify.js";

export interface MigrateOptions {
  /** Empty a non-empty target (or one holding another operation's mark) first. */
  readonly force?: boolean;
  readonly onProgress?: (progress: CopyProgress) => void;
  /** "copying", "verifying", "repairing N rooms": for the command's output. */
  readonly onPhase?: (phase: string) => void;
}

export interface MigrateResult {
  readonly copied: CopyProgress;
  readonly resumedAfter: RoomRef | undefined;
  readonly verification: Verification;
  /** Rooms copied again because they differed at the first verification. */
  readonly repaired: number;
}

export async function migrateStore(source: StoreReader, target: Store, options: MigrateOptions = {}): Promise<MigrateResult> {
  const existing = await target.readMark();
  let mark: IncompleteMark | undefined;
  if (existing !== null) {
    if (existing.operation === "migrate" && existing.source === source.description) mark = existing;
    else if (!options.force) {
      throw new RefusedError(`${target.description} holds an unfinished ${describeMark(existing)}: run that again to complete it, or pass --force to empty it and migrate into it`);
    }
  }
  if (mark === undefined) {
    const empty = await target.isEmpty();
    if (!empty && !options.force) {
      throw new RefusedError(`${target.description} is not empty: migrate writes into an empty store (pass --force to replace everything in it)`);
    }
    mark = { operation: "migrate", source: source.description, started: new Date().toISOString() };
    await target.begin(mark, !empty);
  }
  const resumedAfter = mark.position !== undefined && "after" in mark.position ? { party: mark.position.after[0], room: mark.position.after[1] } : undefined;
  options.onPhase?.(resumedAfter ? `copying (resuming after ${resumedAfter.party}/${resumedAfter.room})` : "copying");
  const copied = await copyInto(target, mark, source.records({}, resumedAfter), {
    wipeRooms: true,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  options.onPhase?.("verifying");
  let verification = await compareStores(source, target);
  let repaired = 0;
  if (verification.mismatched.length > 0 && !verification.overflow) {
    options.onPhase?.(`repairing ${verification.mismatched.length} rooms that differ`);
    for (const room of verification.mismatched) {
      // Emptied first, so a room the source no longer has is removed from the target too.
      await target.apply({ wipes: [room], entries: [], alarms: [] }, mark);
      await copyInto(target, mark, source.records({ party: room.party, room: room.room }), { wipeRooms: true });
      repaired++;
    }
    options.onPhase?.("verifying again");
    verification = await compareStores(source, target);
  }
  if (verification.mismatched.length > 0) {
    const some = verification.mismatched.slice(0, 5).map((room) => `${room.party}/${room.room}`).join(", ");
    throw new Error(
      `verification failed: ${verification.overflow ? "more than " : ""}${verification.mismatched.length} rooms differ between ${source.description} and ${target.description} (${some}…); ` +
        `the target stays marked incomplete (is something writing the source? stop it and run migrate again)`,
    );
  }
  await target.finish();
  return { copied, resumedAfter, verification, repaired };
}
