/**
 * Reassembly of the chunked messages `y-partykit/provider` sends when a message exceeds 1 MB
 * (PartyKit closes sockets that send larger frames): a text start marker
 * `y-pk-batch#{"id","type":"start","size","count"}`, the binary chunks, and a matching end
 * marker. The server never chunks what it sends: the provider does not reassemble, and the
 * 1 MiB limit is on frames clients send.
 */
const MARKER_PREFIX = "y-pk-batch#";

interface Marker {
  id: string;
  type: "start" | "end";
  size: number;
  count: number;
}

export function isChunkMarker(message: string): boolean {
  return message.startsWith(MARKER_PREFIX);
}

function parseMarker(message: string): Marker {
  const parsed = JSON.parse(message.slice(MARKER_PREFIX.length)) as Partial<Marker>;
  if ((parsed.type !== "start" && parsed.type !== "end") || typeof parsed.size !== "number" || typeof parsed.count !== "number") {
    throw new Error(`invalid chunk marker: ${message.slice(0, 100)}`);
  }
  return parsed as Marker;
}

/** One connection's batch in progress. */
export class ChunkAssembler {
  private start: Marker | undefined;
  private chunks: Uint8Array[] = [];

  /** Whether a batch is open, so the next binary message is a chunk, not a message. */
  get collecting(): boolean {
    return this.start !== undefined;
  }

  /** A marker: returns the whole message when it ends a batch. Throws on a mismatched batch. */
  marker(text: string): Uint8Array | undefined {
    const marker = parseMarker(text);
    if (marker.type === "start") {
      this.start = marker;
      this.chunks = [];
      return undefined;
    }
    const start = this.start;
    const chunks = this.chunks;
    this.start = undefined;
    this.chunks = [];
    if (start === undefined) return undefined; // an end without a start (we lost the start): ignore, as y-partykit
    const size = chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0);
    if (start.id !== marker.id || start.count !== chunks.length || start.size !== size || marker.size !== size) {
      throw new Error(`chunked message ${start.id} arrived incomplete (${chunks.length}/${start.count} chunks, ${size}/${start.size} bytes)`);
    }
    const whole = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      whole.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return whole;
  }

  chunk(bytes: Uint8Array): void {
    this.chunks.push(bytes);
  }
}
