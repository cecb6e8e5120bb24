#!/usr/bin/env node
// Empties dist/ before a build: tsc never deletes the output of a source that was removed,
// renamed or excluded since, and `npm pack` ships all of dist/.
import { rmSync } from "node:fs";

rmSync(new URL("../dist", import.meta.url), { recursive: true, force: true });
