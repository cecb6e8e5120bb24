// The browser side: y-partykit's provider, unchanged, and a <textarea> bound to a Y.Text.
import YPartyKitProvider from "y-partykit/provider";
import * as Y from "yjs";

declare const PARTYKIT_HOST: string;

const params = new URLSearchParams(location.search);
const room = params.get("room") ?? "welcome";
const doc = new Y.Doc();
const provider = new YPartyKitProvider(PARTYKIT_HOST, room, doc, {
  params: params.has("readonly") ? { readonly: "1" } : {},
});
const text = doc.getText("text");

const area = document.querySelector<HTMLTextAreaElement>("#editor")!;
const status = document.querySelector<HTMLElement>("#status")!;
const people = document.querySelector<HTMLElement>("#people")!;
if (params.has("readonly")) area.readOnly = true;

// Local edits: apply the difference between the old and the new value (one changed range).
let shown = "";
area.addEventListener("input", () => {
  const value = area.value;
  let start = 0;
  while (start < shown.length && start < value.length && shown[start] === value[start]) start++;
  let end = 0;
  while (end < shown.length - start && end < value.length - start && shown[shown.length - 1 - end] === value[value.length - 1 - end]) end++;
  doc.transact(() => {
    text.delete(start, shown.length - start - end);
    text.insert(start, value.slice(start, value.length - end));
  }, "local");
  shown = value;
  sendCursor();
});

// Remote edits: replace the value and keep the caret where it was relative to the text around it.
text.observe((event) => {
  if (event.transaction.origin === "local") return;
  const anchor = Y.createRelativePositionFromTypeIndex(text, area.selectionStart);
  const head = Y.createRelativePositionFromTypeIndex(text, area.selectionEnd);
  shown = area.value = text.toString();
  const a = Y.createAbsolutePositionFromRelativePosition(anchor, doc)?.index ?? 0;
  const h = Y.createAbsolutePositionFromRelativePosition(head, doc)?.index ?? a;
  area.setSelectionRange(a, h);
});

// Presence: a name, a colour and the caret, shared through awareness.
const colours = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#46f0f0"];
const me = { name: `guest-${doc.clientID % 1000}`, colour: colours[doc.clientID % colours.length]! };
function sendCursor(): void {
  provider.awareness.setLocalStateField("user", { ...me, caret: area.selectionStart });
}
area.addEventListener("keyup", sendCursor);
area.addEventListener("click", sendCursor);
sendCursor();
provider.awareness.on("change", () => {
  const entries = [...provider.awareness.getStates()].map(([id, state]) => {
    const user = (state as { user?: { name: string; colour: string; caret: number } }).user;
    if (!user) return "";
    const who = id === doc.clientID ? `${user.name} (you)` : user.name;
    return `<li style="color:${user.colour}">${who} — at ${user.caret}</li>`;
  });
  people.innerHTML = entries.join("");
});

provider.on("status", ({ status: s }: { status: string }) => (status.textContent = s));
provider.on("sync", (synced: boolean) => {
  if (synced) shown = area.value = text.toString();
});
