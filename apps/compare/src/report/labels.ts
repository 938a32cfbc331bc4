/**
 * Configuration labels as the charts show them: short enough never to be cut by an axis or legend,
 * unique so no two entries look alike, and a key table giving each abbreviated label's full name.
 */

/** Longest label a chart shows (characters); longer ones are abbreviated. */
export const MAX_LABEL = 28;

export interface ConfigLabels {
  /** The label a chart shows for a configuration (the configuration itself when short enough). */
  readonly short: (config: string) => string;
  /** Every abbreviated label and its full configuration, in row order (empty when none was). */
  readonly keys: readonly { readonly short: string; readonly full: string }[];
}

/** Keep the start and the end of a long label (`MoE[top=2]+Fl…INT8+Paged`), `max` characters at most. */
function abbreviate(label: string, max: number): string {
  if (label.length <= max) return label;
  const tail = Math.floor((max - 1) / 3);
  return `${label.slice(0, max - 1 - tail)}…${label.slice(label.length - tail)}`;
}

/**
 * Short, unique labels for `configs`: a label of at most `max` characters stays as it is; a longer one
 * keeps its start and end around "…", and abbreviations that would coincide (with each other or with
 * a short label) are numbered `#2`, `#3`, … within `max`.
 */
export function configLabels(configs: readonly string[], max = MAX_LABEL): ConfigLabels {
  const full = [...new Set(configs)];
  const taken = new Set(full.filter((c) => c.length <= max));
  const map = new Map<string, string>();
  for (const c of full) {
    if (c.length <= max) {
      map.set(c, c);
      continue;
    }
    let s = abbreviate(c, max);
    for (let n = 2; taken.has(s); n++) s = `${abbreviate(c, max - ` #${n}`.length)} #${n}`;
    taken.add(s);
    map.set(c, s);
  }
  return {
    short: (c) => map.get(c) ?? abbreviate(c, max),
    keys: full.filter((c) => map.get(c) !== c).map((c) => ({ short: map.get(c)!, full: c })),
  };
}
