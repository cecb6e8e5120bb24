/** PartyKit's mapping of a handler's exception to a response: a numeric `code` becomes the status. */
export function errorResponse(error: unknown): Response {
  if (error instanceof Error || (typeof error === "object" && error !== null)) {
    const { message, code } = error as { message?: unknown; code?: unknown };
    const status = typeof code === "number" && code >= 400 && code <= 599 ? code : 500;
    const text = typeof message === "string" ? message : String(error);
    // PartyKit substitutes this text for an empty message.
    return new Response(text || "Uncaught exception when making a request", { status });
  }
  // PartyKit looks for `"code" in error`, which itself throws for a thrown primitive: the client
  // gets that TypeError's message (spec 1.11), so a project sees the same body on both.
  return new Response(`Cannot use 'in' operator to search for 'code' in ${String(error)}`, { status: 500 });
}
