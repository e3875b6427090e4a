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
