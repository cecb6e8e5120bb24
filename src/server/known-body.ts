/**
 * The string or bytes a Response was constructed from, when that is still what it will send.
 *
 * Reading a tiny body through a ReadableStream reader costs several promise turns and forces
 * chunked encoding; most handler responses are `new Response("text")` or `Response.json(x)`.
 * undici (Node's fetch) keeps the constructor's source next to the stream, so we peek at it.
 * This is an internal of undici: every step is feature-checked and any surprise means "unknown",
 * which sends the body through the stream as usual.
 */

type Source = string | Uint8Array;

interface UndiciBody {
  stream?: unknown;
  source?: unknown;
}

let stateKey: symbol | undefined;

/**
 * Source of a Response body, or undefined when it must be streamed. `stream` is the
 * response's body, which the caller has checked nobody has locked or read from: only then
 * does the source still describe what the stream would deliver.
 */
export function knownBodyOf(response: Response, stream: ReadableStream<Uint8Array>): Source | undefined {
  const body = bodyStateOf(response);
  if (body === undefined || body.stream !== stream) return undefined;
  const source = body.source;
  if (typeof source === "string") return source;
  // undici copies ArrayBuffer / view bodies into a fresh Uint8Array at construction.
  if (source instanceof Uint8Array) return source;
  return undefined;
}

function bodyStateOf(response: Response): UndiciBody | undefined {
  const key = (stateKey ??= findStateKey(response));
  if (key === undefined) return undefined;
  const state: unknown = (response as unknown as Record<symbol, unknown>)[key];
  if (typeof state !== "object" || state === null) return undefined;
  const body: unknown = (state as { body?: unknown }).body;
  if (typeof body !== "object" || body === null) return undefined;
  return body as UndiciBody;
}

/** undici names its private slot Symbol(state); remembered once found. */
function findStateKey(response: Response): symbol | undefined {
  for (const key of Object.getOwnPropertySymbols(response)) {
    if (key.description === "state") return key;
  }
  return undefined;
}
