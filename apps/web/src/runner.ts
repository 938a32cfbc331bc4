/**
 * The page's worker: runs `runSmall` off the main thread, where `Atomics.wait` is allowed, so the WASM
 * runtime can hand half of each product to a helper Web Worker when the page is cross-origin isolated.
 * Protocol: one RunRequest in, one `{ ok, report | error }` out.
 */
import { type RunReport, type RunRequest, runSmall } from "./run-small.js";

/** The worker's reply. */
export type RunReply =
  | { readonly ok: true; readonly report: RunReport }
  | { readonly ok: false; readonly error: string };

const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent<RunRequest>) => void) | null;
  postMessage(reply: RunReply): void;
};

scope.onmessage = (e) => {
  runSmall(e.data).then(
    (report) => scope.postMessage({ ok: true, report }),
    (err: unknown) =>
      scope.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
};
