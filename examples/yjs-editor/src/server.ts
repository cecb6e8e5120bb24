import type * as Party from "partykit/server";
import { YServer } from "partyhouse/yjs";

/**
 * A shared text document per room: the whole server. It hibernates after 5 s without events
 * (the editors stay connected), keeps the document in room storage (`.partyhouse/`), and serves
 * it over HTTP: GET /parties/main/<room>?format=text&name=text.
 * `?readonly` in the page URL connects without edit rights.
 */
export default class SharedText extends YServer {
  override isReadOnly(connection: Party.Connection): boolean {
    return new URL(connection.uri).searchParams.has("readonly");
  }
}
