/**
 * Reads a document that y-partykit persisted in the same room, so moving a project from
 * y-partykit keeps its documents. y-partykit keeps each update under
 * `"v1"#"<room id>"#"update"#<clock, 9 digits>#<chunk, 3 digits>` (chunks of 128 KiB, in key
 * order); that is all there is to read. Its keys are left in place (a way back).
 */
import type * as Party from "../types/party.js";

export async function readYPartyKitUpdates(storage: Party.Storage, roomId: string): Promise<Uint8Array[]> {
  const prefix = `"v1"#"${roomId}"#"update"#`;
  const entries = await storage.list<Uint8Array>({ prefix });
  const updates: Uint8Array[] = [];
  let current: Uint8Array[] = [];
  let currentClock: string | undefined;
  const finish = () => {
    if (current.length === 0) return;
    const whole = new Uint8Array(current.reduce((sum, part) => sum + part.byteLength, 0));
    let offset = 0;
    for (const part of current) whole.set(part, offset), (offset += part.byteLength);
    updates.push(whole);
    current = [];
  };
  for (const [key, value] of entries) {
    const clock = key.slice(prefix.length, key.lastIndexOf("#"));
    if (clock !== currentClock) finish();
    currentClock = clock;
    current.push(value);
  }
  finish();
  return updates;
}
