// The workerd globals the test apps use, as @cloudflare/workers-types would declare them
// (partyhouse offers them to bundles; src/build/workerd-globals.ts).
interface WorkerdWebSocket extends WebSocket {
  accept(): void;
}
declare class WebSocketPair {
  0: WorkerdWebSocket;
  1: WorkerdWebSocket;
}
interface ResponseInit {
  webSocket?: WebSocket | null;
}
