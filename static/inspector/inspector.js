// The partyhouse inspector: plain JavaScript over the admin JSON API, no build step.
// Every value from the server (room ids, keys, states) is inserted as text, never as HTML.
"use strict";

const TOKEN_KEY = "partyhouse-admin-token";
const REFRESH_MS = 2000;
const state = { route: [], roomPages: [], keyPages: [], prefix: "", timer: 0 };

function token() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

async function api(path) {
  const headers = token() ? { authorization: "Bearer " + token() } : {};
  const response = await fetch("api/" + path, { headers });
  if (response.status === 401) {
    document.getElementById("token-form").hidden = false;
    throw new Error("the admin listener needs its token");
  }
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || "HTTP " + response.status);
  return body;
}

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function table(headings, rows) {
  return el(
    "table",
    {},
    el("thead", {}, el("tr", {}, headings.map((h) => el("th", { class: /^(sockets|rooms|resident|hibernated|size)$/i.test(h) ? "num" : "" }, h)))),
    el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colspan: headings.length, class: "muted" }, "none"))),
  );
}

const seg = (text) => encodeURIComponent(text);
const link = (hash, text) => el("a", { href: hash }, text);
const num = (value) => el("td", { class: "num" }, value);

function shown(value) {
  if (value && "json" in value) return el("code", {}, JSON.stringify(value.json));
  return el("span", { class: "muted" }, value.type + detail(value));
}

// What a value JSON cannot hold shows beside its type: its entry count, byte length or a preview.
function detail(value) {
  if (value.entries !== undefined) return ` (${value.entries} entries)`;
  if (value.byteLength !== undefined) return ` (${value.byteLength} bytes)`;
  return value.preview !== undefined ? `: ${value.preview}` : "";
}

function badges(room) {
  return [
    room.resident ? el("span", { class: "badge resident" }, "resident") : null,
    room.hibernated ? el("span", { class: "badge hibernated" }, "hibernated") : null,
    room.stored ? el("span", { class: "badge stored" }, "stored") : null,
    room.live === false ? el("span", { class: "badge" }, "not running") : null,
    // With --workers: the worker process that holds the room.
    typeof room.worker === "number" ? el("span", { class: "badge worker" }, "worker " + room.worker) : null,
  ];
}

function setStatus(text, isError) {
  const status = document.getElementById("status");
  status.textContent = text;
  status.className = isError ? "error" : "";
}

async function refreshTotals() {
  const { parties, unansweredWorkers } = await api("parties");
  const sum = (key) => parties.reduce((total, party) => total + party[key], 0);
  document.getElementById("totals").textContent =
    `${parties.length} parties · ${sum("known")} rooms · ${sum("resident")} resident · ${sum("hibernated")} hibernated · ${sum("sockets")} sockets` +
    (unansweredWorkers && unansweredWorkers.length ? ` · worker(s) ${unansweredWorkers.join(", ")} not answering` : "");
  return parties;
}

function crumbs() {
  const [party, room, key] = state.route;
  const parts = [link("#/", "parties")];
  if (party !== undefined) parts.push(" / ", link(`#/${seg(party)}`, party));
  if (room !== undefined) parts.push(" / ", link(`#/${seg(party)}/${seg(room)}`, room));
  if (key !== undefined) parts.push(" / ", key);
  document.getElementById("crumbs").replaceChildren(...parts);
}

async function viewParties(parties) {
  const rows = parties.map((p) =>
    el("tr", { "data-party": p.name }, el("td", {}, link(`#/${seg(p.name)}`, p.name)), num(p.known), num(p.resident), num(p.hibernated), num(p.sockets)),
  );
  return [el("h2", {}, "Parties"), table(["party", "rooms", "resident", "hibernated", "sockets"], rows)];
}

async function viewRooms(party, reload) {
  if (reload || state.roomPages.length === 0) state.roomPages = [await api(`parties/${seg(party)}/rooms`)];
  else state.roomPages[0] = await api(`parties/${seg(party)}/rooms`);
  const rooms = state.roomPages.flatMap((page) => page.rooms);
  const rows = rooms.map((r) =>
    el("tr", { "data-room": r.id }, el("td", {}, link(`#/${seg(party)}/${seg(r.id)}`, r.id)), num(r.sockets), el("td", {}, badges(r))),
  );
  const next = state.roomPages[state.roomPages.length - 1].next;
  const more = next
    ? el("button", { onclick: async () => { state.roomPages.push(await api(`parties/${seg(party)}/rooms?cursor=${next}`)); render(false); } }, "More rooms")
    : null;
  return [el("h2", {}, `Rooms of ${party}`), table(["room", "sockets", ""], rows), more];
}

async function viewRoom(party, room, reload) {
  const base = `parties/${seg(party)}/rooms/${seg(room)}`;
  const query = state.prefix ? `?prefix=${seg(state.prefix)}` : "";
  const detail = await api(base + query);
  if (reload || state.keyPages.length === 0) state.keyPages = [detail.storage];
  else state.keyPages[0] = detail.storage;
  const connections = detail.connections.map((c) =>
    el("tr", { "data-connection": c.id }, el("td", {}, el("code", {}, c.id)), el("td", {}, c.uri), el("td", {}, c.tags.join(", ")), el("td", {}, shown(c.state))),
  );
  const keys = state.keyPages.flatMap((page) => page.keys).map((k) =>
    el("tr", { "data-key": k.key }, el("td", {}, link(`#/${seg(party)}/${seg(room)}/${seg(k.key)}`, k.key)), el("td", {}, k.type), num(k.size)),
  );
  const next = state.keyPages[state.keyPages.length - 1].next;
  const prefixInput = el("input", { id: "prefix", placeholder: "key prefix", value: state.prefix });
  const prefixForm = el(
    "form",
    { id: "prefix-form", onsubmit: (event) => { event.preventDefault(); state.prefix = prefixInput.value; render(true); } },
    prefixInput,
    " ",
    el("button", { type: "submit" }, "Filter"),
  );
  const more = next
    ? el("button", { onclick: async () => { state.keyPages.push((await api(`${base}?cursor=${next}${state.prefix ? `&prefix=${seg(state.prefix)}` : ""}`)).storage); render(false); } }, "More keys")
    : null;
  const status = detail.live ? (detail.hibernated ? "hibernated" : detail.resident ? "resident" : "in memory, no instance") : "not running";
  return [
    el(
      "h2",
      {},
      `Room ${room} `,
      el("span", { class: "badge", id: "room-status" }, status),
      typeof detail.worker === "number" ? el("span", { class: "badge worker", id: "room-worker" }, "worker " + detail.worker) : null,
    ),
    el("p", {}, `Alarm: ${detail.alarm ? detail.alarm.iso : "none"} · ${detail.sockets} socket(s)`),
    el("h2", {}, "Connections"),
    table(["id", "uri", "tags", "state"], connections),
    el("h2", {}, "Storage"),
    prefixForm,
    table(["key", "type", "size"], keys),
    more,
  ];
}

async function viewValue(party, room, key) {
  const value = await api(`parties/${seg(party)}/rooms/${seg(room)}/storage/${seg(key)}`);
  const body = "json" in value ? JSON.stringify(value.json, null, 2) : `${value.type}${detail(value)}, ${value.size} bytes stored`;
  return [el("h2", {}, `Key ${key}`), el("pre", { id: "value" }, body)];
}

async function render(reload) {
  clearTimeout(state.timer);
  crumbs();
  try {
    const parties = await refreshTotals();
    const [party, room, key] = state.route;
    let content;
    if (party === undefined) content = await viewParties(parties);
    else if (room === undefined) content = await viewRooms(party, reload);
    else if (key === undefined) content = await viewRoom(party, room, reload);
    else content = await viewValue(party, room, key);
    document.getElementById("view").replaceChildren(...content.filter(Boolean));
    setStatus("updated " + new Date().toLocaleTimeString(), false);
  } catch (error) {
    setStatus(error.message, true);
  }
  // Values do not change under the reader's eyes; lists and counts refresh.
  if (state.route.length < 3) state.timer = setTimeout(() => render(false), REFRESH_MS);
}

function routeFromHash() {
  const path = location.hash.replace(/^#\/?/, "");
  const tokenMatch = /^token=(.*)$/.exec(path);
  if (tokenMatch) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(tokenMatch[1]));
    history.replaceState(null, "", "#/");
    return [];
  }
  return path === "" ? [] : path.split("/").map((part) => decodeURIComponent(part));
}

window.addEventListener("hashchange", () => {
  state.route = routeFromHash();
  state.roomPages = [];
  state.keyPages = [];
  state.prefix = "";
  render(true);
});

document.getElementById("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, document.getElementById("token").value);
  document.getElementById("token-form").hidden = true;
  render(true);
});

state.route = routeFromHash();
render(true);
