/**
 * `partyhouse/yjs`: a Yjs room that hibernates, with persistence in room storage.
 *
 *   import { YServer } from "partyhouse/yjs";
 *   export default class Document extends YServer {}
 *
 * or, moving from y-partykit, `import { onConnect } from "partyhouse/yjs"` in place of
 * `"y-partykit"`. Clients: `y-partykit/provider` or `y-websocket`, unchanged.
 */
export { YServer, type YServerOptions } from "./y-server.js";
export { onConnect, unstable_getYDoc, type YPartyKitOptions, type YPartyKitPersistenceStrategy } from "./on-connect.js";
export type { YPartyKitCallbackOptions } from "./callback.js";
export { documentResponse, fetchDocument } from "./document-http.js";
export type { UpdateLogOptions } from "./update-log.js";
