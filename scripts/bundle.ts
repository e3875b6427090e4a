/**
 * Writes dist/venvoy: one executable JavaScript file, templates and shell files inlined,
 * that runs with `deno` from any directory. (`deno compile` embeds the same module graph.)
 *
 * vup-core is the instant path (it runs on every `vup` activation), and V8 and Deno scan the
 * whole main file on every start: a megabyte of code costs ~15 ms more than the same bytes
 * as a string. So the file is src/boot/entry.ts (vup-core, and a loader), with all of venvoy
 * (main.ts bundled) packed as gzip+base64 into one string in front of it. Any command but
 * vup-core unpacks it once per version into the user's cache folder and imports it from there
 * (src/boot/packed.ts). Both parts are minified. (The release binaries come from
 * `deno compile`, which keeps modules apart and needs none of this.)
 */
import { fileURLToPath } from "node:url";
import { pack } from "../src/boot/packed.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = `${root}dist/venvoy`;
const SHEBANG = "#!/usr/bin/env -S deno run --allow-all --no-config --no-lock --quiet\n";

async function bundle(entry: string, outJs: string): Promise<string> {
  const res = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--minify", "--platform", "deno", "-o", outJs, `${root}${entry}`],
    cwd: root,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!res.success) Deno.exit(res.code || 1);
  const body = await Deno.readTextFile(outJs);
  await Deno.remove(outJs);
  return body.replace(/^#!.*\n/, "");
}

await Deno.mkdir(`${root}dist`, { recursive: true });
const boot = await bundle("src/boot/entry.ts", `${root}dist/boot.bundle.js`);
const main = new TextEncoder().encode(await bundle("main.ts", `${root}dist/venvoy.bundle.js`));
const packed = await pack(main);
const text = `${SHEBANG}// all of venvoy but vup-core, packed (src/boot/packed.ts)
const __VENVOY_PACKED__ = ${JSON.stringify({ sha: packed.sha, size: packed.size, gz: packed.gz })};
${boot}`;
await Deno.writeTextFile(`${out}.tmp`, text);
await Deno.chmod(`${out}.tmp`, 0o755);
await Deno.rename(`${out}.tmp`, out);
console.error(`wrote ${out} (${(text.length / 1024).toFixed(0)} KiB)`);
