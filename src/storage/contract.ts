/**
 * What the runtime (rooms) needs from storage, and what storage needs from a room.
 * Data flows one way: the runtime imports this; storage never imports the runtime.
 */
import type { Storage } from "../types/party.js";
import type { RoomRef, StorageEngine } from "./engine.js";

/** Callbacks a room gives its storage. */
export interface RoomStorageHooks {
  /**
   * Input gate. An operation that cannot complete synchronously (an engine read, waiting for
   * durability, a transaction) calls started() before and ended() after; between the two the
   * room delivers no new event. Operations served from memory call neither: their promise is
   * already settled, so the caller's continuation runs before any new event anyway.
   */
  operationStarted(): void;
  operationEnded(): void;
  /** A commit carrying an alarm change is durable; `time` is the new alarm or null. */
  alarmCommitted(time: number | null): void;
  /**
   * The room's writes could not be made durable (fenced, or the engine failed). Every write
   * since the last durable commit is lost, held output must be dropped and the instance reset.
   */
  writeFailed(error: Error): void;
}

/** A room's storage as the runtime sees it: the user-facing API plus gate plumbing. */
export interface RoomStorage extends Storage {
  readonly ref: RoomRef;
  /**
   * Output gate: a promise that resolves when every write made so far is durable (rejects if
   * that failed), or undefined when nothing is pending, so callers can skip waiting.
   */
  whenDurable(): Promise<void> | undefined;
  /**
   * Marks the alarm scheduled for `time` as firing: getAlarm() answers null until the user
   * sets a new one, as on Cloudflare.
   */
  beginAlarm(time: number): void;
  /**
   * After onAlarm: on success the stored alarm is cleared unless the handler set a new one;
   * on failure the alarm stays stored (so a crash re-fires it) and getAlarm() unmasks it.
   */
  endAlarm(time: number, succeeded: boolean): void;
  /** Write everything pending and drop cached values; the object is not used afterwards. */
  close(): Promise<void>;
}

/** One group commit as it happened, for metrics. */
export interface CommitObservation {
  /** Wall time of the engine commit, in seconds. */
  readonly seconds: number;
  /** Rooms whose writes it carried (the group-commit batch size). */
  readonly rooms: number;
  /** Keys put or deleted across those rooms. */
  readonly keys: number;
  /** False when the engine failed (nothing of the batch applied). */
  readonly ok: boolean;
}

/**
 * Read-only access to what is committed, for the admin listener: it reads the engine directly,
 * so inspecting a room never opens, wakes or claims it. Writes not yet committed are not seen.
 */
export type StorageReader = Pick<StorageEngine, "kind" | "get" | "list" | "getAlarm" | "listRooms">;

/** One per process (per engine): owns the group commit and hands out room storages. */
export interface StorageService {
  /** Open (or reuse) the storage of a room. The service claims the room from the engine. */
  room(ref: RoomRef, hooks: RoomStorageHooks): RoomStorage;
  /** Every stored alarm, for the scheduler at start-up. */
  listAlarms(): Promise<Array<{ room: RoomRef; time: number }>>;
  /** Commit everything pending, then close the engine. */
  close(): Promise<void>;
  /** For the admin API. */
  readonly reader: StorageReader;
  /**
   * Resolves once every write made so far, in any room, is durable (rejects if one of them
   * failed), or undefined when nothing is pending: the output gate of calls that cannot be
   * told apart by room (a bundle's `fetch`).
   */
  whenAllDurable(): Promise<void> | undefined;
  /** Readiness: storage is open and its last commit did not fail. */
  ready(): { ok: boolean; reason: string };
  /** Calls `observer` after every group commit; returns the function that stops it. */
  observeCommits(observer: (commit: CommitObservation) => void): () => void;
}
