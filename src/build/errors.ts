/**
 * A failed server or client build. `message` is one line per esbuild error (file:line:col),
 * short enough for the CLI's error line; `details` is esbuild's own rendering with code frames.
 */
import { formatMessages, type Message } from "esbuild";

export class BuildError extends Error {
  override name = "BuildError";
  constructor(
    message: string,
    readonly details: string = message,
    /** Files the errors point at (as esbuild names them), so a watcher can wait for their fix. */
    readonly files: string[] = [],
  ) {
    super(message);
  }
}

function isBuildFailure(error: unknown): error is { errors: Message[] } {
  return typeof error === "object" && error !== null && Array.isArray((error as { errors?: unknown }).errors);
}

function describeMessage(message: Message): string {
  const where = message.location
    ? `${message.location.file}:${message.location.line}:${message.location.column + 1}: `
    : "";
  return `${where}${message.text}`;
}

/** Turns whatever esbuild threw into a BuildError (other errors pass through unchanged). */
export async function toBuildError(error: unknown): Promise<unknown> {
  if (!isBuildFailure(error) || error.errors.length === 0) return error;
  const summary = error.errors.map(describeMessage).join("\n");
  const details = (await formatMessages(error.errors, { kind: "error", color: false })).join("");
  const files = error.errors.flatMap((message) => (message.location ? [message.location.file] : []));
  return new BuildError(summary, details.trimEnd(), [...new Set(files)]);
}
