/**
 * Reading a document over HTTP, for `onRequest` and for other rooms (`context.parties`):
 *
 *   GET ?format=update            the whole document as one Yjs update (application/octet-stream)
 *   GET ?format=text&name=<name>  the text of the Y.Text `name` (default "default"), text/plain
 *   GET ?format=json&name=<name>  the Y.Map / Y.Array / Y.Text `name` as JSON
 *
 * Without `format`: an update when the request accepts application/octet-stream, else JSON of
 * every named type the document has.
 */
import * as Y from "yjs";
import type * as Party from "../types/party.js";

export function documentResponse(doc: Y.Doc, request: Request): Response {
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response("Method not allowed: a Yjs document is read with GET", { status: 405, headers: { allow: "GET, HEAD" } });
  }
  const url = new URL(request.url);
  const name = url.searchParams.get("name") ?? "default";
  const format =
    url.searchParams.get("format") ?? ((request.headers.get("accept") ?? "").includes("application/octet-stream") ? "update" : "json");
  switch (format) {
    case "update":
      return new Response(Y.encodeStateAsUpdate(doc) as Uint8Array<ArrayBuffer>, { headers: { "content-type": "application/octet-stream" } });
    case "text":
      return new Response(doc.getText(name).toString(), { headers: { "content-type": "text/plain; charset=utf-8" } });
    case "json":
      return Response.json(url.searchParams.has("name") ? sharedToJSON(doc, name) : documentToJSON(doc));
    default:
      return new Response(`Unknown format "${format}": use update, text or json`, { status: 400 });
  }
}

/**
 * A named type as JSON. A type the server only knows from an update (never accessed with
 * getText/getMap/getArray here) is untyped: its content says what it is (keyed entries: a map;
 * characters or formats: a text; anything else: an array).
 */
function sharedToJSON(doc: Y.Doc, name: string): unknown {
  const type = doc.share.get(name);
  if (type === undefined) return null;
  if (type instanceof Y.Text || type instanceof Y.Map || type instanceof Y.Array || type instanceof Y.XmlFragment) return type.toJSON();
  if (hasKeyedEntries(doc, type)) return doc.getMap(name).toJSON();
  const content = Y.getTypeChildren(type).find((item) => !item.deleted)?.content;
  const isText = content instanceof Y.ContentString || content instanceof Y.ContentFormat || content instanceof Y.ContentEmbed;
  return isText ? doc.getText(name).toJSON() : doc.getArray(name).toJSON();
}

/** Whether a type ever had keyed entries, deleted ones too: a snapshot with nothing deleted sees them all. */
function hasKeyedEntries(doc: Y.Doc, type: Y.AbstractType<Y.YEvent<any>>): boolean {
  const everything = Y.createSnapshot(Y.createDeleteSet(), Y.decodeStateVector(Y.encodeStateVector(doc)));
  return Object.keys(Y.typeMapGetAllSnapshot(type, everything)).length > 0;
}

function documentToJSON(doc: Y.Doc): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const name of doc.share.keys()) result[name] = sharedToJSON(doc, name);
  return result;
}

/**
 * Reads another room's document through `room.context.parties` (or any stub): fetches its state
 * as one update and returns a fresh Y.Doc holding it (a copy: changes to it go nowhere).
 */
export async function fetchDocument(stub: Party.Stub, path = "/"): Promise<Y.Doc> {
  const url = `${path}${path.includes("?") ? "&" : "?"}format=update`;
  const response = await stub.fetch(url, { headers: { accept: "application/octet-stream" } });
  if (!response.ok) throw new Error(`reading the document failed: HTTP ${response.status} ${await response.text()}`);
  const doc = new Y.Doc();
  Y.applyUpdate(doc, new Uint8Array(await response.arrayBuffer()));
  return doc;
}
