/** Terminal output for the demo: a progress bar and a live status line that rewrite themselves on a TTY. */

const BAR_WIDTH = 30;

/** Formats a count with thousands separators. */
export const count = (n: number): string => Math.round(n).toLocaleString('en-US');

/** Formats a nanosecond duration in the most readable unit. */
export function duration(ns: number): string {
  if (ns < 1_000) return `${ns.toFixed(0)} ns`;
  if (ns < 1_000_000) return `${(ns / 1_000).toFixed(1)} µs`;
  return `${(ns / 1_000_000).toFixed(2)} ms`;
}

/** A line that rewrites itself in place on a terminal, and prints every `everyMs` otherwise. */
export class StatusLine {
  readonly #stream: NodeJS.WriteStream;
  readonly #tty: boolean;
  readonly #everyMs: number;
  #lastPrinted = 0;

  constructor(stream: NodeJS.WriteStream, everyMs = 2000) {
    this.#stream = stream;
    this.#tty = stream.isTTY === true;
    this.#everyMs = everyMs;
  }

  update(text: string, force = false): void {
    if (this.#tty) {
      this.#stream.write(`\r\x1b[2K${text}`);
      return;
    }
    const now = Date.now();
    if (force || now - this.#lastPrinted >= this.#everyMs) {
      this.#lastPrinted = now;
      this.#stream.write(`${text}\n`);
    }
  }

  /** Ends the line (on a terminal) so the next output starts fresh. */
  done(): void {
    if (this.#tty) this.#stream.write('\n');
  }
}

/** A progress bar: `[#####.....]  45%  22,500 / 50,000 label`. */
export function progressBar(done: number, total: number, label: string): string {
  const share = total === 0 ? 1 : done / total;
  const filled = Math.round(share * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${(share * 100).toFixed(0).padStart(3)}%  ${count(done)} / ${count(total)} ${label}`;
}
