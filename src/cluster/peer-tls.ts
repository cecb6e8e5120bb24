/**
 * Optional TLS between nodes: each node presents its certificate and accepts a peer only with a
 * certificate signed by the cluster's CA (mutual TLS), in both directions. The peer link's
 * connection is upgraded to TLS before anything else is said on it (the shared secret, then the
 * link), so a cluster can span networks that are not trusted.
 */
import { readFileSync } from "node:fs";
import type { Socket } from "node:net";
import { connect as tlsConnect, createServer, type Server, type TLSSocket } from "node:tls";

/** Where a node's PEM files are (`--cluster-cert`, `--cluster-key`, `--cluster-ca`). */
export interface PeerTlsFiles {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

/** The same, read. */
export interface PeerTls {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer;
}

export function readPeerTls(files: PeerTlsFiles): PeerTls {
  return { cert: readFileSync(files.cert), key: readFileSync(files.key), ca: readFileSync(files.ca) };
}

/**
 * The owner's side: TLS over upgraded connections, refusing a peer without a certificate from the
 * CA. A tls.Server that never listens does the handshakes (a connection is handed to it as its
 * 'connection' event), because only a tls.Server refuses an unauthorized client by itself.
 */
export class PeerTlsServer {
  private readonly server: Server;

  constructor(
    tls: PeerTls,
    /** Each connection whose handshake succeeded, with a certificate of the CA. */
    secured: (socket: TLSSocket) => void,
    /** A handshake that failed (a certificate of another CA, none, or not TLS at all). */
    refused: (error: Error) => void,
  ) {
    this.server = createServer({ requestCert: true, rejectUnauthorized: true, ca: tls.ca, cert: tls.cert, key: tls.key }, secured);
    this.server.on("tlsClientError", (error) => refused(error));
  }

  accept(socket: Socket): void {
    this.server.emit("connection", socket);
  }
}

/**
 * The edge's side. The peer's certificate must chain to the CA; its name is not checked (nodes
 * are addressed by the host:port they advertise, often an IP, and the CA is the cluster's own).
 */
export function startTls(socket: Socket, tls: PeerTls): Promise<TLSSocket> {
  const secure = tlsConnect({ socket, ca: tls.ca, cert: tls.cert, key: tls.key, checkServerIdentity: () => undefined });
  return handshake(secure, "secureConnect");
}

function handshake(secure: TLSSocket, done: "secureConnect"): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => {
      secure.destroy();
      reject(error);
    };
    secure.once("error", fail);
    secure.once("close", () => reject(new Error("the peer closed the connection during the TLS handshake")));
    secure.once(done, () => {
      secure.off("error", fail);
      resolve(secure);
    });
  });
}
