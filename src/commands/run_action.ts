/**
 * The work of `venvoy run`, loaded once by its action (src/commands/run.ts) and by main.ts's
 * fast path. What it loads statically must load no node: and no npm module
 * (tests/unit/boot/loaded_modules_test.ts); the auto-save loads lazily, once the session has
 * run a while or changed a package (snapshot/quick.ts tells, with a few stats).
 */
import type { CommandContext } from "./context.ts";
import { type RunContext, runEnv, type RunOptions } from "../session/run.ts";
import { info, isTty } from "../ui/output.ts";
// Loads no snapshot code itself: auto-save's is imported when it starts.
import { startSessionAutoSave, unchangedSinceSaved } from "../snapshot/env_hooks.ts";
export { makeContext } from "./context.ts";

export async function run(ctx: CommandContext, opts: RunOptions): Promise<void> {
  let stdinData = false;
  try {
    const st = Deno.statSync("/dev/stdin");
    stdinData = st.isFile || !!st.isFifo || !!st.isSocket;
  } catch { /* closed */ }
  await runEnv(sessionContext(ctx, { stdinData }), opts);
}

/**
 * What a session needs from this process (run, record): the terminal, the host's
 * environment (the scheduler's variables pass through) and the auto-save hooks.
 */
export function sessionContext(
  ctx: CommandContext,
  o: { stdinData: boolean },
): RunContext {
  return {
    runner: ctx.runner,
    paths: ctx.paths,
    engine: ctx.engine,
    cwd: Deno.cwd(),
    note: (m) => info(`venvoy: ${m}`),
    terminal: { stdin: isTty("stdin"), stdout: isTty("stdout") },
    stdinData: o.stdinData,
    hostEnv: Deno.env.toObject(),
    autoSaver: startSessionAutoSave,
    savedUnchanged: unchangedSinceSaved,
  };
}
