// Idle rooms for the per-room memory figure: `count` GETs in all, each to a room id never used
// before, over a few keep-alive connections. A window creates rooms until its end or until the count
// is reached; the next window goes on from there (the harness holds every window to its end, so the
// runner uses short ones and stops once the count is reached).
import { hostLoad } from "../../lib/load-host.js";
import { KeepAliveConnection } from "../../lib/http-raw.js";
import { localDeadlines } from "../../lib/window-timing.js";
import { performance } from "node:perf_hooks";

interface Params {
  host: string;
  port: number;
  connections: number;
  count: number;
  roomPrefix: string;
}

let params: Params;
let connections: KeepAliveConnection[] = [];
let issued = 0;

hostLoad<Params>({
  async setup(p) {
    params = p;
    connections = Array.from({ length: p.connections }, () => new KeepAliveConnection(p.host, p.port));
  },

  async window(window) {
    const { end } = await localDeadlines(window);
    let ok = 0;
    let errors = 0;
    await new Promise<void>((resolve) => {
      let open = connections.length;
      const next = (connection: KeepAliveConnection) => {
        if (issued >= params.count || performance.now() > end) {
          if (--open === 0) resolve();
          return;
        }
        connection.get(`/parties/main/${params.roomPrefix}-${issued++}`, (status) => {
          if (status === 200) ok++;
          else errors++;
          next(connection);
        });
      };
      for (const connection of connections) {
        connection.onError = () => {
          errors++;
          next(connection);
        };
        next(connection);
      }
    });
    return { ops: ok, errors, latency: [] };
  },

  async teardown() {
    for (const connection of connections) connection.close();
  },
});
