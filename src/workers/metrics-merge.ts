/**
 * The workers' Prometheus texts as one: every sample gets a `worker` label, and the samples of
 * one metric family stay together under its HELP and TYPE (the text format requires it), in the
 * order the families first appear.
 */

interface Family {
  readonly comments: string[];
  readonly samples: string[];
}

/** `texts[i]` is worker i's exposition; the result is one exposition for the machine. */
export function mergeWorkerMetrics(texts: ReadonlyArray<{ readonly worker: number; readonly text: string }>): string {
  const families = new Map<string, Family>();
  for (const { worker, text } of texts) {
    let current: Family | undefined;
    for (const line of text.split("\n")) {
      if (line === "") continue;
      if (line.startsWith("#")) {
        const match = /^# (HELP|TYPE) (\S+)/.exec(line);
        if (match === null) continue;
        const name = match[2]!;
        let family = families.get(name);
        if (family === undefined) families.set(name, (family = { comments: [], samples: [] }));
        // HELP and TYPE once per family, from the first worker that has it.
        if (family.comments.length < 2 && !family.comments.some((seen) => seen.startsWith(`# ${match[1]} `))) family.comments.push(line);
        current = family;
        continue;
      }
      const sample = withWorkerLabel(line, worker);
      if (current === undefined) {
        const name = /^[^{\s]+/.exec(line)?.[0] ?? line;
        let family = families.get(name);
        if (family === undefined) families.set(name, (family = { comments: [], samples: [] }));
        current = family;
      }
      current.samples.push(sample);
    }
  }
  const lines: string[] = [];
  for (const family of families.values()) lines.push(...family.comments, ...family.samples);
  return `${lines.join("\n")}\n`;
}

/** `name{a="b"} 1` → `name{worker="2",a="b"} 1`; `name 1` → `name{worker="2"} 1`. */
export function withWorkerLabel(sample: string, worker: number): string {
  const label = `worker="${worker}"`;
  const brace = sample.indexOf("{");
  const space = sample.indexOf(" ");
  if (brace !== -1 && (space === -1 || brace < space)) {
    const empty = sample[brace + 1] === "}";
    return `${sample.slice(0, brace + 1)}${label}${empty ? "" : ","}${sample.slice(brace + 1)}`;
  }
  return space === -1 ? sample : `${sample.slice(0, space)}{${label}}${sample.slice(space)}`;
}
