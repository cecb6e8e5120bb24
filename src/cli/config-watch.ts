/**
 * In dev, a change to the config file or a `.env` file cannot be applied by a reload (vars,
 * port and parties are fixed at start), so say that a restart is needed instead of silently
 * running with the old values.
 */
import { basename, join } from "node:path";
import { ChangeWatcher } from "../build/change-watcher.js";
import type { ResolvedConfig } from "../config/types.js";

export async function watchConfigFiles(config: ResolvedConfig, onChanged: (names: string[]) => void): Promise<() => void> {
  const files = [join(config.root, ".env"), join(config.root, ".env.local")];
  if (config.configPath) files.unshift(config.configPath);
  const watcher: ChangeWatcher = new ChangeWatcher({
    onChange: () => {
      void watcher.takeChanges().then((changed) => {
        if (changed.length > 0) onChanged(changed.map((path) => basename(path)));
      });
    },
    debounceMs: 100,
  });
  await watcher.track(files, []);
  return () => watcher.close();
}
