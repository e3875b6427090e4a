/**
 * Writes dist/venvoy: one executable JavaScript file, templates and shell files inlined,
 * that runs with `deno` from any directory. (`deno compile` embeds the same module graph.)
 *
 * vup-core is the instant path (it runs on every `vup` activation), and V8 and Deno scan the
 * whole main file on every start: a megabyte of code costs ~15 ms more than the same bytes
 * as a string. So the file is src/boot/entry.ts (vup-core, and a loader), with all of venvoy
 * (main.ts bundled with code splitting: a folder of modules) packed as gzip+base64 into one
 * string in front of it. Any command but vup-core unpacks that folder once per version into
 * the user's cache folder and imports main.js from there (src/boot/packed.ts), so each
 * command loads only the modules it uses; `venvoy run`'s fast path is one module of its own,
 * bundled whole (scripts/chunks.ts replaceWithWhole). Both parts are minified. (The release binaries come from
 * `deno compile`, which keeps modules apart and needs none of this.)
 */
import { fileURLToPath } from "node:url";
import { pack } from "../src/boot/packed.ts";
import { replaceWithWhole, rewriteChunk } from "./chunks.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = `${root}dist/venvoy`;
// --ext=js: a file with no extension is otherwise taken for TypeScript, transpiled, and its
// emit (the source again, with an inline source map: 800 KB) read on every start (~2.5 ms).
const SHEBANG = "#!/usr/bin/env -S deno run --allow-all --no-config --no-lock --quiet --ext=js\n";

async function denoBundle(args: string[]) {
  const res = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--minify", "--platform", "deno", ...args],
    cwd: root,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!res.success) Deno.exit(res.code || 1);
}

/** One entry, everything inlined: the boot file. */
async function bundleOne(entry: string): Promise<string> {
  const outJs = `${root}dist/${entry.replace(/\W/g, "_")}.bundle.js`;
  await denoBundle(["-o", outJs, `${root}${entry}`]);
  const body = await Deno.readTextFile(outJs);
  await Deno.remove(outJs);
  return body.replace(/^#!.*\n/, "");
}

/** main.ts split at its dynamic imports: each command loads only what it uses. */
async function bundleSplit(entry: string): Promise<Record<string, string>> {
  const outdir = await Deno.makeTempDir({ prefix: "venvoy-chunks-" });
  try {
    await denoBundle(["--code-splitting", "--outdir", outdir, `${root}${entry}`]);
    const files: Record<string, string> = {};
    for (const e of Deno.readDirSync(outdir)) {
      if (!e.isFile) throw new Error(`bundle: unexpected ${e.name} in the chunks`);
      const text = (await Deno.readTextFile(`${outdir}/${e.name}`)).replace(/^#!.*\n/, "");
      files[e.name] = rewriteChunk(e.name, text);
    }
    return files;
  } finally {
    await Deno.remove(outdir, { recursive: true });
  }
}

await Deno.mkdir(`${root}dist`, { recursive: true });
const boot = await bundleOne("src/boot/entry.ts");
// `venvoy run`'s fast path as one module, not the ~30 chunks its code is split into:
// array tasks start it thousands of times (src/commands/run_main.ts).
const chunks = replaceWithWhole(
  await bundleSplit("main.ts"),
  "main.js",
  "run_main-",
  rewriteChunk("run_main", await bundleOne("src/commands/run_main.ts")),
);
const packed = await pack("main.js", chunks);
const text = `${SHEBANG}// all of venvoy but vup-core, packed (src/boot/packed.ts)
const __VENVOY_PACKED__ = ${
  JSON.stringify({
    sha: packed.sha,
    size: packed.size,
    entry: packed.entry,
    // A string: vup-core, which never needs it, scans a string almost for free.
    index: JSON.stringify(packed.index),
    gz: packed.gz,
  })
};
${boot}`;
await Deno.writeTextFile(`${out}.tmp`, text);
await Deno.chmod(`${out}.tmp`, 0o755);
await Deno.rename(`${out}.tmp`, out);
console.error(
  `wrote ${out} (${(text.length / 1024).toFixed(0)} KiB; ${
    Object.keys(chunks).length
  } modules packed)`,
);
