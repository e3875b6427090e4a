/**
 * Writes dist/venvoy: one executable JavaScript file, templates and shell files inlined,
 * that runs with `deno` from any directory. (`deno compile` embeds the same module graph.)
 */
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const outJs = `${root}dist/venvoy.bundle.js`;
const out = `${root}dist/venvoy`;
const SHEBANG = "#!/usr/bin/env -S deno run --allow-all --no-config --no-lock --quiet\n";

await Deno.mkdir(`${root}dist`, { recursive: true });
const res = await new Deno.Command(Deno.execPath(), {
  args: ["bundle", "--quiet", "--platform", "deno", "-o", outJs, `${root}main.ts`],
  cwd: root,
  stdout: "inherit",
  stderr: "inherit",
}).output();
if (!res.success) Deno.exit(res.code || 1);
const body = await Deno.readTextFile(outJs);
await Deno.writeTextFile(`${out}.tmp`, SHEBANG + body.replace(/^#!.*\n/, ""));
await Deno.chmod(`${out}.tmp`, 0o755);
await Deno.rename(`${out}.tmp`, out);
await Deno.remove(outJs);
console.error(`wrote ${out} (${(body.length / 1024).toFixed(0)} KiB)`);
