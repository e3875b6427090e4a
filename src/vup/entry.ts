/**
 * The vup-core fast path as a bundle entry of its own (scripts/bundle.ts puts it in front of
 * the rest of venvoy in dist/venvoy): it answers `venvoy vup-core …`, or a binary named
 * vup-core, and exits before anything else is evaluated; otherwise it does nothing. Like
 * main.ts, it is an entry point, so it may exit. Routing mirrors main.ts.
 */
import { vupCoreMain } from "./mod.ts";

function vupCoreArgs(args: string[]): string[] | null {
  if (args[0] === "vup-core") return args.slice(1);
  const names = [Deno.mainModule, Deno.execPath()].map((p) =>
    decodeURIComponent(p.split(/[\\/]/).pop() ?? "")
  );
  return names.some((n) => n === "vup-core" || n === "vup-core.exe") ? args : null;
}

const vupArgs = vupCoreArgs(Deno.args);
if (vupArgs) Deno.exit(await vupCoreMain(vupArgs));
