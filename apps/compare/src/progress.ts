/**
 * A one-line progress indicator on stderr: redrawn in place on a TTY, silent otherwise or with
 * --quiet. Honours NO_COLOR.
 */
export interface Progress {
  start(total: number): void;
  step(label: string): void;
  done(): void;
}

export function createProgress(options: { quiet: boolean; stream?: NodeJS.WriteStream }): Progress {
  const stream = options.stream ?? process.stderr;
  const enabled = !options.quiet && stream.isTTY === true;
  const color = enabled && !process.env.NO_COLOR;
  let total = 0;
  let n = 0;
  const t0 = performance.now();
  const draw = (label: string) => {
    if (!enabled) return;
    const width = 24;
    const filled = total > 0 ? Math.round((n / total) * width) : 0;
    const bar = "█".repeat(filled) + "░".repeat(width - filled);
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    const text = `${bar} ${n}/${total} ${label} (${secs}s)`;
    stream.write(`\r\x1b[2K${color ? `\x1b[36m${text}\x1b[0m` : text}`);
  };
  return {
    start(t) {
      total = t;
      n = 0;
      draw("starting");
    },
    step(label) {
      n++;
      draw(label);
    },
    done() {
      if (enabled) stream.write("\r\x1b[2K");
    },
  };
}
