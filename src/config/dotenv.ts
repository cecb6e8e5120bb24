/**
 * A `.env` parser with the rules people expect from dotenv: `KEY=value` lines, an optional
 * `export ` prefix, `#` comments (whole line, or after an unquoted value), single quotes taken
 * literally, double quotes with `\n`-style escapes, and quoted values spanning several lines.
 *
 * Not `util.parseEnv`: on Node 22-26 it cuts `"say \"hi\""` at the escaped quote, ends an unquoted
 * value at any `#` (`a#b` gives `a`) and expands no escape but `\n`, so `.env` files would change.
 */
const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

export function parseDotenv(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  const source = text.replace(/\r\n?/g, "\n");
  let pos = 0;
  while (pos < source.length) {
    let end = source.indexOf("\n", pos);
    if (end === -1) end = source.length;
    const line = source.slice(pos, end);
    const trimmed = line.trim();
    const equals = trimmed.indexOf("=");
    if (trimmed === "" || trimmed.startsWith("#") || equals === -1) {
      pos = end + 1;
      continue;
    }
    const key = trimmed.slice(0, equals).replace(/^export\s+/, "").trim();
    if (!KEY.test(key)) {
      pos = end + 1;
      continue;
    }
    // Where the value starts in `source`, so quoted values may run past this line.
    const valueStart = pos + line.indexOf("=") + 1;
    const afterEquals = source.slice(valueStart, end).trimStart();
    const quote = afterEquals[0];
    if (quote === '"' || quote === "'" || quote === "`") {
      const openAt = source.indexOf(quote, valueStart);
      const closeAt = findClosingQuote(source, openAt + 1, quote);
      if (closeAt !== -1) {
        const raw = source.slice(openAt + 1, closeAt);
        result[key] = quote === '"' ? unescapeDoubleQuoted(raw) : raw;
        const lineEnd = source.indexOf("\n", closeAt);
        pos = lineEnd === -1 ? source.length : lineEnd + 1;
        continue;
      }
      // An unclosed quote: take the rest of the line as it is, like dotenv.
    }
    result[key] = stripInlineComment(afterEquals).trim();
    pos = end + 1;
  }
  return result;
}

function findClosingQuote(source: string, from: number, quote: string): number {
  for (let i = from; i < source.length; i++) {
    if (quote === '"' && source[i] === "\\") {
      i++;
      continue;
    }
    if (source[i] === quote) return i;
  }
  return -1;
}

function unescapeDoubleQuoted(raw: string): string {
  return raw.replace(/\\([nrt"\\])/g, (_, c: string) =>
    c === "n" ? "\n" : c === "r" ? "\r" : c === "t" ? "\t" : c,
  );
}

function stripInlineComment(value: string): string {
  const at = value.search(/\s#/);
  return at === -1 ? value : value.slice(0, at);
}
