/**
 * Accepting a peer's link (the front door hands over any upgrade to PEER_LINK_UPGRADE or
 * PEER_TLS_UPGRADE): only a caller with the cluster secret, only while this node is not
 * draining, and, when the cluster runs TLS between nodes, only over a connection that went
 * through this node's mutual-TLS handshake first. Plain `Upgrade: partyhouse-link` to a TLS node
 * is refused (403), so the secret never needs to cross a network in the clear.
 */
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { describeError, type Logger } from "../runtime/logger.js";
import { DRAINING, refusalResponse } from "../server/admission.js";
import { callerOf } from "../server/internal-auth.js";
import { PEER_LINK_UPGRADE, PEER_TLS_UPGRADE } from "../server/room-router.js";
import { rejectUpgrade } from "../server/upgrade-response.js";
import { PeerTlsServer, type PeerTls } from "./peer-tls.js";

export interface LinkAcceptorOptions {
  readonly secret: string;
  readonly tls?: PeerTls;
  readonly logger: Logger;
  /** Takes over the socket as a link (after the 101). */
  readonly link: (socket: Socket, head: Buffer, serve: (connection: Duplex) => void) => void;
  /** Whether this node is draining (it takes no new links then). */
  readonly draining: () => boolean;
}

export class LinkAcceptor {
  /** Connections that completed this node's mutual-TLS handshake. */
  private readonly secured = new WeakSet<Duplex>();
  private readonly tlsServer: PeerTlsServer | undefined;
  /** This node's HTTP server (as `serve`): an encrypted connection goes there once its handshake is done. */
  private serve: ((connection: Duplex) => void) | undefined;

  constructor(private readonly options: LinkAcceptorOptions) {
    if (options.tls === undefined) return;
    this.tlsServer = new PeerTlsServer(
      options.tls,
      (secure) => {
        this.secured.add(secure);
        // Inside TLS, the peer now asks for its link (with the secret) as an HTTP upgrade.
        this.serve?.(secure);
      },
      (error) => options.logger.log("warn", "a peer's TLS handshake failed", describeError(error)),
    );
  }

  /**
   * Answers a peer's upgrade. `serve` hands a connection to this node's HTTP server as if it had
   * just been accepted (node:http's 'connection'): virtual connections the link carries, and the
   * encrypted connection a TLS upgrade produces.
   */
  accept(req: IncomingMessage, socket: Socket, head: Buffer, serve: (connection: Duplex) => void): Promise<void> | void {
    const protocol = (req.headers.upgrade ?? "").toLowerCase();
    const tls = this.tlsServer;
    if (this.options.draining()) return rejectUpgrade(socket, refusalResponse(DRAINING));
    if (protocol === PEER_TLS_UPGRADE) {
      if (tls === undefined) return rejectUpgrade(socket, new Response("This node does not run TLS between nodes", { status: 400 }));
      this.serve = serve;
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${PEER_TLS_UPGRADE}\r\n\r\n`);
      if (head.length > 0) socket.unshift(head);
      return tls.accept(socket);
    }
    if (protocol !== PEER_LINK_UPGRADE) return rejectUpgrade(socket, new Response("Unknown upgrade", { status: 400 }));
    const caller = callerOf(req.rawHeaders, this.options.secret);
    if (caller !== "stub" && caller !== "peer") return rejectUpgrade(socket, new Response("Forbidden", { status: 403 }));
    if (tls !== undefined && !this.secured.has(socket)) {
      return rejectUpgrade(socket, new Response("This node takes peer links over TLS only", { status: 403 }));
    }
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${PEER_LINK_UPGRADE}\r\n\r\n`);
    this.options.link(socket, head, serve);
  }
}
