// Every scenario, in the order they run: memory first, on a fresh server; new rooms last, since it
// leaves thousands of rooms behind.
import type { Scenario } from "./types.js";
import { memory } from "./memory.js";
import { httpOneRoom, httpPuts, newRooms } from "./http.js";
import { echo } from "./echo.js";
import { fanout } from "./fanout.js";

export const SCENARIOS: Scenario[] = [memory, httpOneRoom, echo, fanout, newRooms, httpPuts];
