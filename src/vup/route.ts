/**
 * Whether this invocation is vup-core: `venvoy vup-core …`, or the binary (or the script)
 * invoked under the name vup-core. Returns vup-core's own arguments, or null. Both entry
 * points (main.ts, and src/boot/entry.ts for the single file) route with it.
 */
export function vupCoreArgs(args: string[]): string[] | null {
  if (args[0] === "vup-core") return args.slice(1);
  const names = [Deno.mainModule, Deno.execPath()].map((p) =>
    decodeURIComponent(p.split(/[\\/]/).pop() ?? "")
  );
  return names.some((n) => n === "vup-core" || n === "vup-core.exe") ? args : null;
}
