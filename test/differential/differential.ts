import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { normalize, verdictOf, type Row } from "./compare.js";
import { probes as allProbes, type Probe, type ProjectName } from "./probes.js";
import { freePort, startPartyhouse, startPartykit, type RunningServer } from "./servers.js";

const projectsDir = fileURLToPath(new URL("./projects", import.meta.url));

export interface DifferentialOptions {
  partykitBin: string;
  /** Only probes whose "group: name" contains one of these. */
  filters?: readonly string[];
  log?: (line: string) => void;
}

/**
 * Runs every probe against `partykit dev` and `partyhouse dev`, one project at a time. Each
 * server gets its own copy of the project in a scratch folder (partykit may write into it),
 * and both are stopped (process group, by PID) before the next project starts.
 */
export async function runDifferential(options: DifferentialOptions): Promise<Row[]> {
  const log = options.log ?? (() => {});
  const selected = allProbes.filter(
    (p) => !options.filters?.length || options.filters.some((f) => `${p.group}: ${p.name}`.includes(f)),
  );
  const projects = [...new Set(selected.map((p) => p.project))];
  const scratch = mkdtempSync(join(tmpdir(), "partyhouse-differential-"));
  const rows: Row[] = [];
  try {
    for (const project of projects) {
      rows.push(...(await runProject(project, selected.filter((p) => p.project === project), options.partykitBin, scratch, log)));
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return rows;
}

async function runProject(
  project: ProjectName,
  probes: readonly Probe[],
  partykitBin: string,
  scratch: string,
  log: (line: string) => void,
): Promise<Row[]> {
  const copy = (kind: string) => {
    const dir = join(scratch, `${project}-${kind}`);
    cpSync(join(projectsDir, project), dir, { recursive: true });
    return dir;
  };
  const [pkPort, phPort] = [await freePort(), await freePort()];
  log(`project ${project}: starting partykit dev on ${pkPort} and partyhouse dev on ${phPort}`);
  const started = await Promise.allSettled([startPartykit(partykitBin, copy("partykit"), pkPort), startPartyhouse(copy("partyhouse"), phPort)]);
  const servers = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  try {
    const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) throw failed.reason;
    const [partykit, partyhouse] = servers as [RunningServer, RunningServer];
    const rows: Row[] = [];
    for (const probe of probes) {
      const [pk, ph] = await Promise.all([runProbe(probe, partykit), runProbe(probe, partyhouse)]);
      const row = { probe, partykit: pk, partyhouse: ph, verdict: verdictOf(probe, pk, ph) };
      log(`  ${row.verdict.padEnd(27)} ${probe.group}: ${probe.name}`);
      rows.push(row);
    }
    return rows;
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

async function runProbe(probe: Probe, server: RunningServer): Promise<string> {
  try {
    return normalize(await probe.run({ origin: server.origin }));
  } catch (error) {
    return `probe failed: ${error instanceof Error ? error.message : String(error)}`;
  }
}
