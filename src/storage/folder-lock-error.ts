/** Thrown when another live process already uses the data folder. */
export class DataFolderInUseError extends Error {
  constructor(readonly dir: string, readonly file: string) {
    super(
      `The data folder ${dir} is in use by another process (its database ${file} is locked). ` +
        `Only one partyhouse process may use a data folder at a time: stop the other one, or give this one another folder.`,
    );
    this.name = "DataFolderInUseError";
  }
}
