/**
 * The entry of the single-file build (scripts/bundle.ts writes dist/venvoy): it answers
 * `venvoy vup-core …` (or a binary named vup-core) at once, and otherwise imports the rest of
 * venvoy, which the build packs into `__VENVOY_PACKED__` (src/boot/packed.ts). Routing mirrors
 * main.ts (both use src/vup/route.ts). Like main.ts, it is an entry point, so it may exit.
 */
import { vupCoreMain } from "../vup/mod.ts";
import { vupCoreArgs } from "../vup/route.ts";
import { importPacked, type PackedModule } from "./packed.ts";

/** As scripts/bundle.ts writes it: the index as JSON text, parsed only when needed. */
declare const __VENVOY_PACKED__: Omit<PackedModule, "index"> & { index: string };

const vupArgs = vupCoreArgs(Deno.args);
if (vupArgs) Deno.exit(await vupCoreMain(vupArgs));
try {
  await importPacked({ ...__VENVOY_PACKED__, index: JSON.parse(__VENVOY_PACKED__.index) });
} catch (e) {
  console.error((e as Error).message);
  Deno.exit(1);
}
