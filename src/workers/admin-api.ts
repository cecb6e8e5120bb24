/**
 * The room API (`/api/...`) of the supervisor's admin listener, for the whole machine. It reads
 * each worker's own admin API over loopback (with the supervisor's secret as the token):
 *
 * - `/api/parties`: every worker's counts, added up (a room is in memory on one worker at most);
 * - `/api/parties/:party/rooms`: every worker's page for the same cursor and limit, merged
 *   (room-pages.ts), each room in memory labelled with its worker;
 * - a room's routes (detail, a stored value, export, `DELETE …/storage`): answered by the worker
 *   that holds the room, or by any healthy worker when none does (the store is shared, and a
 *   delete claims the room first, so it cannot run beside a live instance elsewhere); the
 *   detail says which worker holds the room;
 * - `/api/snapshot`: taken by the supervisor itself, from one read transaction (shared-store.ts);
 * - anything else: any healthy worker's answer (the same 404s and 400s as one process).
 *
 * A worker that does not answer in time is left out of the sums and lists and named in
 * `unansweredWorkers`; a room whose worker does not answer gets 503.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { DEFAULT_PAGE, type RoomListPage } from "../admin/room-list.js";
import { sendSnapshotFile } from "../admin/data-routes.js";
import { decodeSegments, sendJson } from "../admin/server.js";
import { SnapshotBusyError } from "../data/online-snapshot.js";
import type { PartyRoomCounts } from "../metrics/exporter.js";
import type { RoomRef } from "../storage/engine.js";
import { askEachWorker, askWorker, type AskOptions, type WorkerAdminUrl, type WorkerAnswer } from "./ask-workers.js";
import { mergeRoomPages } from "./room-pages.js";

export interface WorkerAdmins {
  /** The admin URL of each running worker. */
  admins(): WorkerAdminUrl[];
  /** The worker that holds the room (or was sent a connection for it), if any. */
  ownerOf(ref: RoomRef): number | undefined;
  /** A ready worker that is neither stuck nor draining, if any. */
  anyHealthy(): number | undefined;
}

export interface SnapshotSource {
  snapshot(): Promise<{ readonly file: string; readonly bytes: number; readonly at: Date }>;
}

/** How long the gateway waits for a worker's answer to start (a stuck worker's is left out). */
export const WORKER_ANSWER_TIMEOUT_MS = 2_000;

/** Headers of a worker's answer passed on to the client. */
const PASSED_HEADERS = ["content-type", "content-disposition", "cache-control", "x-content-type-options", "allow"];

export class WorkersApi {
  constructor(
    private readonly workers: WorkerAdmins,
    private readonly token: string,
    private readonly store: SnapshotSource,
  ) {}

  /** `rest`: the path after `/api/`, as sent. */
  async handle(req: IncomingMessage, res: ServerResponse, rest: string): Promise<void> {
    const segments = decodeSegments(rest);
    if (segments === null) return sendJson(res, 400, { error: "malformed percent-encoding in the path" });
    const method = req.method ?? "GET";
    const [first, party, rooms, room] = segments;
    if (segments.length === 1 && first === "snapshot" && method !== "DELETE") return this.snapshot(res);
    if (method === "GET" || method === "HEAD") {
      if (segments.length === 1 && first === "parties") return this.parties(req, res);
      if (segments.length === 3 && first === "parties" && rooms === "rooms") return this.rooms(req, res);
    }
    if (first === "parties" && party !== undefined && rooms === "rooms" && room !== undefined) {
      const owner = this.workers.ownerOf({ party, room });
      return this.forward(req, res, owner ?? this.workers.anyHealthy(), segments.length === 4 && method !== "DELETE");
    }
    return this.forward(req, res, this.workers.anyHealthy(), false);
  }

  private async snapshot(res: ServerResponse): Promise<void> {
    let snapshot;
    try {
      snapshot = await this.store.snapshot();
    } catch (error) {
      if (error instanceof SnapshotBusyError) return sendJson(res, 409, { error: error.message });
      throw error;
    }
    await sendSnapshotFile(res, snapshot);
  }

  private async parties(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { answers, unanswered } = await this.askAll(req);
    const failed = answers.find(({ response }) => response.status !== 200);
    if (failed !== undefined || answers.length === 0) return this.passOn(res, failed, unanswered);
    const totals = new Map<string, PartyRoomCounts>();
    for (const { response } of answers) {
      const { parties } = (await response.json()) as { parties: Array<PartyRoomCounts & { name: string }> };
      // During a reload two builds may run side by side: a party of either is listed.
      for (const { name, known, resident, hibernated, sockets } of parties) {
        const sum = totals.get(name) ?? { known: 0, resident: 0, hibernated: 0, sockets: 0 };
        totals.set(name, { known: sum.known + known, resident: sum.resident + resident, hibernated: sum.hibernated + hibernated, sockets: sum.sockets + sockets });
      }
    }
    sendJson(res, 200, { parties: [...totals].map(([name, counts]) => ({ name, ...counts })), unansweredWorkers: unanswered });
  }

  private async rooms(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { answers, unanswered } = await this.askAll(req);
    const failed = answers.find(({ response }) => response.status !== 200);
    if (failed !== undefined || answers.length === 0) return this.passOn(res, failed, unanswered);
    const pages = await Promise.all(answers.map(async ({ worker, response }) => ({ worker, page: (await response.json()) as RoomListPage & { party: string } })));
    // Every worker accepted the limit (a bad one is a 400 above), so it is a whole number in range.
    const merged = mergeRoomPages(pages, requestedLimit(req) ?? DEFAULT_PAGE);
    sendJson(res, 200, { party: pages[0]!.page.party, ...merged, unansweredWorkers: unanswered });
  }

  /** Passes one worker's answer on; `labelRoom`: a room's detail, which gets the worker's index. */
  private async forward(req: IncomingMessage, res: ServerResponse, worker: number | undefined, labelRoom: boolean): Promise<void> {
    const url = this.workers.admins().find((admin) => admin.worker === worker)?.url;
    if (worker === undefined || url === undefined) return sendJson(res, 503, { error: "no worker is ready to answer" }, { "retry-after": "1" });
    const response = await this.ask(url, req).catch(() => undefined);
    if (response === undefined) {
      return sendJson(res, 503, { error: `worker ${worker}, which answers for this, did not answer within ${WORKER_ANSWER_TIMEOUT_MS / 1000} s (it may be stuck)` }, { "retry-after": "1" });
    }
    if (labelRoom && response.status === 200) {
      const detail = (await response.json()) as { live: boolean };
      return sendJson(res, 200, { ...detail, worker: detail.live ? worker : null });
    }
    return this.passOn(res, { worker, response }, []);
  }

  private async passOn(res: ServerResponse, answer: WorkerAnswer | undefined, unanswered: number[]): Promise<void> {
    if (answer === undefined) {
      return sendJson(res, 503, { error: "no worker answered", unansweredWorkers: unanswered }, { "retry-after": "1" });
    }
    const { response } = answer;
    const headers: Record<string, string> = {};
    for (const name of PASSED_HEADERS) {
      const value = response.headers.get(name);
      if (value !== null) headers[name] = value;
    }
    res.writeHead(response.status, headers);
    if (response.body === null || res.req.method === "HEAD") return void res.end();
    await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), res);
  }

  private askAll(req: IncomingMessage): Promise<{ answers: WorkerAnswer[]; unanswered: number[] }> {
    return askEachWorker(this.workers.admins(), req.url ?? "/", this.askOptions(req));
  }

  private ask(base: string, req: IncomingMessage): Promise<Response> {
    return askWorker(base, req.url ?? "/", this.askOptions(req));
  }

  /** A worker's admin API answers HEAD as GET; the body is dropped here. */
  private askOptions(req: IncomingMessage): AskOptions {
    return { token: this.token, timeoutMs: WORKER_ANSWER_TIMEOUT_MS, method: req.method === "HEAD" ? "GET" : req.method ?? "GET" };
  }
}

function requestedLimit(req: IncomingMessage): number | undefined {
  const raw = new URL(req.url ?? "/", "http://admin.invalid").searchParams.get("limit");
  return raw === null ? undefined : Number(raw);
}
