/**
 * Timers that do not load Deno's Node compatibility layer. In Deno 2.9 the global
 * `setTimeout` loads `node:timers` (and a dozen node-compat modules) on first use;
 * `AbortSignal.timeout` does not. Auto-save arms its timers right after `venvoy run`
 * spawns the container, so plain timers would put that load on every batch job's path.
 *
 * These timers do not keep the process alive by themselves (like Node's `unref`): they
 * fire while something else does (a session's container, a watch, a pending read).
 */
export interface Timer {
  cancel(): void;
}

/** Calls `fn` once, after `ms` milliseconds, unless cancelled first. */
export function after(ms: number, fn: () => void): Timer {
  let live = true;
  AbortSignal.timeout(Math.max(0, ms)).addEventListener("abort", () => {
    if (!live) return;
    live = false;
    fn();
  }, { once: true });
  return {
    cancel() {
      live = false;
    },
  };
}

/** Calls `fn` every `ms` milliseconds until cancelled. */
export function every(ms: number, fn: () => void): Timer {
  let live = true;
  let current: Timer | undefined;
  const arm = () => {
    current = after(ms, () => {
      if (!live) return;
      arm();
      fn();
    });
  };
  arm();
  return {
    cancel() {
      live = false;
      current?.cancel();
    },
  };
}
