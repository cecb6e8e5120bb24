import { InputGate } from "./input-gate.js";
import { RoomClosedError } from "./room-closed.js";
import { eventEnded as watchEnded, eventStarted as watchStarted, type EventLabel } from "./running-event.js";
import type { ServerInstance } from "./party-definition.js";

/**
 * How a room's events meet its server instance. Each event enters through the input gate,
 * waits for the instance to exist and for onStart to resolve, then runs; handlers interleave
 * only where they await something that is not storage, as on a Durable Object (input-gate.ts).
 * onStart, blockConcurrencyWhile and storage calls (through `input`) hold other events back.
 * Also tracks activity, for hibernation and eviction.
 */
export class RoomEvents {
  readonly input = new InputGate();
  /** When the room last started or finished an event. */
  lastActive = Date.now();
  private activeEvents = 0;
  private instance: ServerInstance | null = null;
  private started = false;
  private starting: Promise<void> | null = null;
  private closedFor: string | null = null;

  /** When the instance being started began building (for `started`). */
  private buildStartedAt = 0;

  /**
   * `build` constructs a fresh server instance (constructor only; onStart is run here); `label`
   * names the room to the watchdog when an event stalls the event loop; `started` hears how
   * long building plus onStart took, in seconds (metrics). `prepare`, if given, runs before
   * every build and may refuse it by rejecting (RoomHost passes its placement's claim: the room
   * must be claimed by this node before an instance exists).
   */
  constructor(
    private readonly build: () => ServerInstance,
    private readonly label: EventLabel = { party: "?", room: "?" },
    private readonly started_?: (seconds: number) => void,
    private readonly prepare?: () => Promise<unknown>,
  ) {}
  /** Whether `close` was called: no event runs and no instance is built any more. */
  get isClosed(): boolean {
    return this.closedFor !== null;
  }

  /**
   * From now on every event is refused with RoomClosedError (events already waiting at the
   * input gate included) and the instance is dropped for good. Events already running finish.
   */
  close(roomId: string): void {
    this.closedFor = roomId;
    this.instance = null;
    this.started = false;
  }

  /** True while a server instance is in memory (not hibernated or evicted). */
  get isResident(): boolean {
    return this.instance !== null;
  }

  /** Whether nothing runs or waits and the room has been idle for `ms`. */
  isIdleFor(ms: number, now: number): boolean {
    return this.activeEvents === 0 && this.input.isOpen && this.input.waitingCount === 0 && now - this.lastActive >= ms;
  }

  /** Forgets the instance; the next event builds a new one and runs onStart again. */
  dropInstance(): void {
    this.instance = null;
    this.started = false;
  }

  /**
   * Runs `body` as one event: after everything that entered before it has started, once the
   * instance exists and onStart has resolved. Resolves or rejects with the handler's outcome.
   */
  run<T>(body: (server: ServerInstance) => T | Promise<T>, kind = "event"): Promise<Awaited<T>> {
    if (this.closedFor !== null) return Promise.reject(new RoomClosedError(this.closedFor));
    if (this.canRunNow()) {
      // The common case: nothing in the way, so no queueing and no wrapper promise.
      this.eventStarted();
      let result: T | Promise<T>;
      watchStarted(this.label, kind);
      try {
        result = body(this.instance!);
      } catch (error) {
        this.eventEnded();
        return Promise.reject(error);
      } finally {
        watchEnded();
      }
      if (!(result instanceof Promise)) {
        this.eventEnded();
        return Promise.resolve(result as Awaited<T>);
      }
      return result.then(
        (value) => {
          this.eventEnded();
          return value as Awaited<T>;
        },
        (error: unknown) => {
          this.eventEnded();
          throw error;
        },
      );
    }
    return new Promise<Awaited<T>>((resolve, reject) => {
      this.input.enter(() => this.startWaited(body, kind, resolve, reject));
    });
  }

  /** Starts an event that waited at the input gate (which now counts it as started). */
  private startWaited<T>(
    body: (server: ServerInstance) => T | Promise<T>,
    kind: string,
    resolve: (value: Awaited<T>) => void,
    reject: (error: unknown) => void,
  ): void {
    // Closed while this event waited at the gate.
    if (this.closedFor !== null) return reject(new RoomClosedError(this.closedFor));
    this.eventStarted();
    const run = () => {
      let result: T | Promise<T>;
      watchStarted(this.label, kind);
      try {
        result = body(this.instance!);
      } catch (error) {
        this.eventEnded();
        reject(error);
        return;
      } finally {
        watchEnded();
      }
      Promise.resolve(result).then(
        (value) => {
          this.eventEnded();
          resolve(value as Awaited<T>);
        },
        (error: unknown) => {
          this.eventEnded();
          reject(error);
        },
      );
    };
    const starting = this.ensureStarted();
    if (starting === undefined) run();
    else
      starting.then(
        () => {
          // onStart finished, but the room closed meanwhile.
          if (this.closedFor !== null) {
            this.eventEnded();
            return reject(new RoomClosedError(this.closedFor));
          }
          run();
        },
        (error: unknown) => {
          this.eventEnded();
          reject(error);
        },
      );
  }

  /**
   * An event nobody awaits (a message, an error): a failure goes to `failed`. Handlers that
   * finish synchronously cost no promise at all.
   */
  dispatch(body: (server: ServerInstance) => unknown, failed: (error: unknown) => void, kind = "event"): void {
    if (this.closedFor !== null) return; // nobody to tell: the socket is closing with the room
    if (this.canRunNow()) this.dispatchStarted(body, failed, kind);
    // Frames of one read arrive in one burst and wait for the turn: queue the call itself, with
    // no promise per message (a flood queues most of every read).
    else this.input.enter(() => this.dispatchWaited(body, failed, kind));
  }

  private dispatchWaited(body: (server: ServerInstance) => unknown, failed: (error: unknown) => void, kind: string): void {
    if (this.closedFor !== null) return;
    if (this.started) this.dispatchStarted(body, failed, kind);
    else this.startWaited(body, kind, ignoreResult, failed);
  }

  /** Runs a dispatched event the input gate has let in, on a started instance. */
  private dispatchStarted(body: (server: ServerInstance) => unknown, failed: (error: unknown) => void, kind: string): void {
    this.eventStarted();
    let result: unknown;
    watchStarted(this.label, kind);
    try {
      result = body(this.instance!);
    } catch (error) {
      this.eventEnded();
      failed(error);
      return;
    } finally {
      watchEnded();
    }
    if (result instanceof Promise) {
      result.then(this.eventEnded, (error: unknown) => {
        this.eventEnded();
        failed(error);
      });
    } else {
      this.eventEnded();
    }
  }

  /** Durable Object semantics: no other event starts until `callback` settles. */
  blockConcurrencyWhile<T>(callback: () => Promise<T>): Promise<T> {
    this.input.close();
    let result: Promise<T>;
    try {
      result = Promise.resolve(callback());
    } catch (error) {
      result = Promise.reject(error);
    }
    return result.finally(() => this.input.open());
  }

  private reportStarted(): void {
    this.started_?.((performance.now() - this.buildStartedAt) / 1000);
  }

  /**
   * Nothing waits before a new event (instance started, input gate open, no queue, no other
   * event's continuation still running in this turn); if so, the gate counts the event as started.
   */
  private canRunNow(): boolean {
    return this.started && this.input.tryStartNow();
  }

  private eventStarted(): void {
    this.activeEvents++;
    this.lastActive = Date.now();
  }

  private readonly eventEnded = (): void => {
    this.activeEvents--;
    this.lastActive = Date.now();
    if (this.activeEvents === 0 && this.settledWaiters !== null) {
      for (const resolve of this.settledWaiters) resolve();
      this.settledWaiters = null;
    }
  };

  /** ensureStarted with an asynchronous step before the build; the input gate stays closed. */
  private prepareThenStart(prepare: () => Promise<unknown>): Promise<void> {
    this.input.close();
    return this.gateUntilStarted(
      prepare().then(() => {
        // A room closed while its claim was on the way builds nothing.
        if (this.closedFor !== null) throw new RoomClosedError(this.closedFor);
        this.buildStartedAt = performance.now();
        watchStarted(this.label, "onStart");
        try {
          this.instance = this.build();
          return this.instance.onStart();
        } finally {
          watchEnded();
        }
      }),
    );
  }

  /**
   * The input gate (closed by the caller) stays closed until `onStart` settles: then the room is
   * started, or the instance is discarded so that the next event tries again with a fresh one.
   */
  private gateUntilStarted(onStart: Promise<unknown>): Promise<void> {
    this.starting = onStart.then(
      () => {
        this.started = true;
        this.starting = null;
        this.reportStarted();
        this.input.open();
      },
      (error: unknown) => {
        this.instance = null;
        this.starting = null;
        this.input.open();
        throw error;
      },
    );
    return this.starting;
  }

  private settledWaiters: Array<() => void> | null = null;

  /**
   * Resolves once no event is running (or after `timeoutMs`): a closing room lets the events it
   * already started finish their storage work before the storage handle goes away.
   */
  settled(timeoutMs: number): Promise<void> {
    if (this.activeEvents === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      (this.settledWaiters ??= []).push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Builds the instance and runs onStart if needed. Returns undefined when the instance is
   * ready now (the common case, and a synchronous onStart), else a promise for onStart, during
   * which the input gate is closed. A failed onStart discards the instance, so the next event
   * tries again with a fresh one.
   */
  private ensureStarted(): Promise<void> | undefined {
    if (this.started) return undefined;
    if (this.closedFor !== null) return Promise.reject(new RoomClosedError(this.closedFor));
    if (this.starting) return this.starting;
    if (this.prepare !== undefined) return this.prepareThenStart(this.prepare);
    let result: unknown;
    this.buildStartedAt = performance.now();
    watchStarted(this.label, "onStart");
    try {
      this.instance = this.build();
      result = this.instance.onStart();
    } catch (error) {
      this.instance = null;
      return Promise.reject(error);
    } finally {
      watchEnded();
    }
    if (!(result instanceof Promise)) {
      this.started = true;
      this.reportStarted();
      return undefined;
    }
    this.input.close();
    return this.gateUntilStarted(result);
  }
}

function ignoreResult(): void {}
