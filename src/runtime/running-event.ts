/**
 * Which user event the main thread is running, for the watchdog (watchdog.ts) to name when the
 * event loop stalls. Written at the start and end of every event's synchronous part, so it is a
 * handful of property writes on one preallocated object: no allocation, no syscalls. Read only
 * by the watchdog, from inside the stalled loop (through the inspector), so it needs no sharing.
 */
export interface EventLabel {
  readonly party: string;
  readonly room: string;
}

export const runningEvent = {
  party: "",
  room: "",
  kind: "",
  /** True while an event's synchronous part runs; false between events (then the fields name the last one). */
  active: false,
};

export function eventStarted(label: EventLabel, kind: string): void {
  runningEvent.party = label.party;
  runningEvent.room = label.room;
  runningEvent.kind = kind;
  runningEvent.active = true;
}

export function eventEnded(): void {
  runningEvent.active = false;
}
