// One GET on a connection of its own, resolving with the body as text (bench set-up and checks).
import { request } from "node:http";

export function textOf(port: number, path: string, host = "127.0.0.1"): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, agent: false }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => resolve(body));
    });
    req.on("error", reject);
    req.end();
  });
}
