/**
 * What the front door does around a party's own code before a request reaches its room: the
 * onBeforeRequest / onBeforeConnect hooks (PartyKit's rules for what they return), the request a
 * room-to-room socket shows its target, and `request.cf` carried over to copies.
 */
import type { IncomingMessage } from "node:http";
import type * as Party from "../types/party.js";
import { isUpgradeResponse } from "../runtime/websocket-response.js";
import { INTERNAL_HEADER } from "./internal-auth.js";

export type HookResult = { request: Party.Request } | { response: Response };

/**
 * Runs onBeforeConnect / onBeforeRequest with a mutable copy of the request. A throw becomes
 * 401 with the message, a Response is returned as is, a Request replaces the original; any
 * other result forwards the original (PartyKit's rules).
 */
export async function runHook(
hook: ((req: Party.Request, lobby: Party.Lobby, ctx: Party.ExecutionContext) => unknown) | undefined,
request: Party.Request,
lobby: Party.Lobby,
ctx: Party.ExecutionContext,
): Promise<HookResult> {
  if (!hook) return { request };
  // A clone, so the original (and its body) is still whole if the hook returns nothing.
  const copy = withCf(request.clone(), request.cf);
  let result: unknown;
  try {
    result = await hook(copy, lobby, ctx);
  } catch (error) {
    return { response: new Response(error instanceof Error ? error.message : String(error), { status: 401 }) };
  }
  if (result instanceof Response) return { response: result };
  if (result instanceof Request) return { request: withCf(result, request.cf) };
  return { request };
}

/** A WebSocket (101) Response answers only an upgrade request; to plain HTTP it is an error, as in workerd. */
export function httpOnly(response: Response): Response {
  if (!isUpgradeResponse(response)) return response;
  return new Response("A WebSocket (101) response was returned to a request that is not a WebSocket upgrade", { status: 500 });
}

/** Headers the `ws` client of a room-to-room socket adds by itself, and the secret. */
const INTERNAL_HANDSHAKE_HEADERS = new Set([
  INTERNAL_HEADER,
  "host",
  "connection",
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-extensions",
]);

/**
 * What the target of `stub.socket()` sees: on PartyKit only `upgrade` plus the headers the
 * caller passed. So never the secret, the handshake's own headers or client-address headers.
 */
export function internalRequest(req: IncomingMessage, bridged: Party.Request): Party.Request {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (!INTERNAL_HANDSHAKE_HEADERS.has(raw[i]!.toLowerCase())) headers.append(raw[i]!, raw[i + 1]!);
  }
  return withCf(new Request(bridged.url, { headers }), bridged.cf);
}

export function withCf(request: Request, cf: Party.RequestCf | undefined): Party.Request {
  if (cf !== undefined) Object.defineProperty(request, "cf", { value: cf, enumerable: true, configurable: true });
  return request as Party.Request;
}
