/** scripts/bundle.ts: what it changes in the chunks of `deno bundle --code-splitting`. */

/**
 * Two rewrites of each chunk, both measured on `venvoy run`:
 *  - Deno's bundler gives the shared runtime chunk `createRequire` from node:module at its
 *    top, for CommonJS code that requires a built-in. Importing node:module costs ~13 ms, on
 *    every command; made lazy, only code that really calls require pays for it.
 *  - A literal `import("./chunk.js")` makes Deno read and hash every chunk reachable that
 *    way before anything runs (~3 ms); a specifier passed at run time is loaded when imported.
 *    It goes through `globalThis.__venvoyImport` (src/boot/packed.ts), which checks the
 *    module (owner, mode, no link, the build's hash) and its static imports before importing.
 */
export function rewriteChunk(name: string, text: string): string {
  const out = text
    .replace(
      /import\s*\{\s*createRequire as __deno_internal_createRequire\s*\}\s*from\s*"node:module";\s*var ([\w$]+)\s*=\s*__deno_internal_createRequire\(import\.meta\.url\);/g,
      (_m, v: string) =>
        `var ${v}__r;var ${v}=(id)=>(${v}__r??=globalThis.process.getBuiltinModule("node:module").createRequire(import.meta.url))(id);`,
    )
    .replace(
      /\bimport\("(\.\/[\w.-]+\.js)"\)/g,
      (_m, rel: string) => `globalThis.__venvoyImport("${rel}")`,
    );
  if (out.includes("__deno_internal_createRequire")) {
    throw new Error(`bundle: ${name}: Deno's createRequire banner changed; update rewriteChunk`);
  }
  return out;
}

/** The packed modules a chunk loads: statically, and at run time through __venvoyImport. */
const LOCAL_REF = /(?:\bfrom|\bimport|__venvoyImport\()\s*["']\.\/([\w.-]+\.js)["']/g;
/** A static import of anything at all, as esbuild writes them at the top of a module. */
const ANY_STATIC_IMPORT = /(?:^|[;}])\s*import\s*(?:[\w$*{][^;]*?\bfrom\s*)?["'][^"']+["']/;

/**
 * Replaces the chunk whose name starts with `prefix` (the split bundle's chunk of one
 * module, e.g. `run_main-`) by `whole`, that module bundled with everything it may load
 * (no splitting), and drops the chunks nothing reaches any more from `entry`.
 *
 * `whole` must import nothing statically: not a chunk (it would share module copies with the
 * split code, and an error class from one copy is not an instance of the other's), and not a
 * node: or npm module (each costs milliseconds on every start). Build errors say so.
 */
export function replaceWithWhole(
  files: Record<string, string>,
  entry: string,
  prefix: string,
  whole: string,
): Record<string, string> {
  const names = Object.keys(files).filter((n) => n.startsWith(prefix));
  if (names.length !== 1) {
    throw new Error(`bundle: expected one chunk named ${prefix}*, found ${names.length}`);
  }
  const found = ANY_STATIC_IMPORT.exec(whole);
  if (found) {
    throw new Error(`bundle: ${prefix}* bundled whole still imports statically: ${found[0]}`);
  }
  const all = { ...files, [names[0]]: whole };
  const kept: Record<string, string> = {};
  const todo = [entry];
  while (todo.length) {
    const name = todo.pop()!;
    if (name in kept) continue;
    if (!(name in all)) throw new Error(`bundle: ${name} is referenced but was not written`);
    kept[name] = all[name];
    for (const m of all[name].matchAll(LOCAL_REF)) todo.push(m[1]);
  }
  return kept;
}
