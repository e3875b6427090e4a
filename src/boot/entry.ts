/**
 * The entry of the single-file build (scripts/bundle.ts writes dist/venvoy): it answers
 * `venvoy vup-core …` (or a binary named vup-core) at once, and otherwise imports the rest of
 * venvoy, which the build packs into `__VENVOY_PACKED__` (src/boot/packed.ts). Routing mirrors
 * main.ts. Like main.ts, it is an entry point, so it may exit.
 */
import { vupCoreMain } from "../vup/mod.ts";
import { importPacked, type PackedModule } from "./packed.ts";

declare const __VENVOY_PACKED__: PackedModule;

function vupCoreArgs(args: string[]): string[] | null {
  if (args[0] === "vup-core") return args.slice(1);
  const names = [Deno.mainModule, Deno.execPath()].map((p) =>
    decodeURIComponent(p.split(/[\\/]/).pop() ?? "")
  );
  return names.some((n) => n === "vup-core" || n === "vup-core.exe") ? args : null;
}

const vupArgs = vupCoreArgs(Deno.args);
if (vupArgs) Deno.exit(await vupCoreMain(vupArgs));
try {
  await importPacked(__VENVOY_PACKED__);
} catch (e) {
  console.error((e as Error).message);
  Deno.exit(1);
}
