/**
 * Progress of long admin work on stderr. On a terminal a bar is redrawn in
 * place (at most ten times a second); elsewhere (a pipe, a log file, a
 * systemd journal) nothing is printed until the work ends, and then one
 * plain line says what was done.
 */

export interface ProgressOptions {
  /** What is being done, e.g. "Backing up media". */
  label: string;
  /** How much there is to do, if known: the bar shows a share of it. */
  total?: number;
  /** How amounts are shown. */
  unit?: "items" | "bytes";
  /** Where to write (default process.stderr). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

export interface Progress {
  /** Adds `amount` (default 1) to what is done. */
  advance(amount?: number): void;
  /** Sets the total once it is known. */
  setTotal(total: number): void;
  /** Ends the progress with a closing line: `label: summary`. */
  done(summary?: string): void;
  /** Ends it without a closing line (on failure): clears the bar. */
  stop(): void;
}

/** Bytes as a person reads them: 0 B, 1.5 KiB, 12.3 MiB. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} ${units[0]}` : `${value.toFixed(1)} ${units[unit]}`;
}

function amount(value: number, unit: "items" | "bytes"): string {
  return unit === "bytes" ? formatBytes(value) : String(value);
}

const REDRAW_MS = 100;
const BAR_WIDTH = 24;

export function startProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const tty = stream.isTTY === true;
  const unit = options.unit ?? "items";
  let total = options.total;
  let current = 0;
  let lastDraw = 0;
  let drawn = false;
  let finished = false;

  const line = (): string => {
    const counted = total == null
      ? amount(current, unit)
      : `${amount(current, unit)}/${amount(total, unit)}`;
    if (total == null || total <= 0) return `${options.label} ${counted}`;
    const share = Math.min(1, current / total);
    const filled = Math.round(share * BAR_WIDTH);
    const bar = `[${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}]`;
    return `${options.label} ${bar} ${String(Math.floor(share * 100)).padStart(3)}% ${counted}`;
  };

  const draw = (force: boolean) => {
    if (!tty || finished) return;
    const now = Date.now();
    if (!force && now - lastDraw < REDRAW_MS) return;
    lastDraw = now;
    // A terminal of unknown width (0 under some pseudo-terminals) gets the whole line.
    const columns = stream.columns ?? 0;
    const text = columns > 20 ? line().slice(0, columns - 1) : line();
    stream.write(`\r\x1b[2K${text}`);
    drawn = true;
  };

  const clear = () => {
    if (tty && drawn) stream.write("\r\x1b[2K");
    drawn = false;
  };

  draw(true);
  return {
    advance(by = 1) {
      current += by;
      draw(false);
    },
    setTotal(value) {
      total = value;
      draw(true);
    },
    done(summary) {
      if (finished) return;
      clear();
      finished = true;
      stream.write(`${options.label}: ${summary ?? `done, ${amount(current, unit)}`}\n`);
    },
    stop() {
      if (finished) return;
      clear();
      finished = true;
    },
  };
}
