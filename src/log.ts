/** A small levelled logger writing one line per message to stderr. */
import type { LogLevel } from "./config.ts";

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warning: 2, error: 3 };

export interface Logger {
  debug(message: string, detail?: unknown): void;
  info(message: string, detail?: unknown): void;
  warn(message: string, detail?: unknown): void;
  error(message: string, detail?: unknown): void;
}

export function createLogger(level: LogLevel, write: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  const at = (wanted: LogLevel, label: string) => (message: string, detail?: unknown) => {
    if (ORDER[wanted] < ORDER[level]) return;
    let line = `${new Date().toISOString()} ${label} ${message}`;
    if (detail instanceof Error) line += `: ${describeError(detail)}`;
    else if (detail !== undefined) line += ` ${JSON.stringify(detail, (_k, v) => typeof v === "bigint" ? v.toString() : v)}`;
    write(`${line}\n`);
  };
  return { debug: at("debug", "DEBUG"), info: at("info", "INFO"), warn: at("warning", "WARN"), error: at("error", "ERROR") };
}

/**
 * An error's stack, followed by what it wraps: Drizzle reports a failed
 * query as "Failed query: …" and keeps the driver's reason in `cause`.
 */
export function describeError(error: Error): string {
  let text = error.stack ?? error.message;
  let cause: unknown = error.cause;
  for (let depth = 0; depth < 4 && cause != null; depth++) {
    const code = typeof cause === "object" && typeof (cause as { code?: unknown }).code === "string" ? ` [${(cause as { code: string }).code}]` : "";
    text += `\n  caused by${code}: ${cause instanceof Error ? cause.stack ?? cause.message : String(cause)}`;
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return text;
}
