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
    if (detail instanceof Error) line += `: ${detail.stack ?? detail.message}`;
    else if (detail !== undefined) line += ` ${JSON.stringify(detail, (_k, v) => typeof v === "bigint" ? v.toString() : v)}`;
    write(`${line}\n`);
  };
  return { debug: at("debug", "DEBUG"), info: at("info", "INFO"), warn: at("warning", "WARN"), error: at("error", "ERROR") };
}
