/**
 * Writes dist/venvoy: one executable JavaScript file, templates and shell files inlined,
 * that runs with `deno` from any directory. (`deno compile` embeds the same module graph.)
 *
 * vup-core is the instant path (it runs on every `vup` activation), but `deno bundle` hoists
 * every node: import of the whole program to the top of the file, where they are evaluated
 * before any code runs (~25 ms). So the file is src/vup/entry.ts bundled alone (imports
 * nothing; answers vup-core and exits), then the rest of venvoy inside an async function whose
 * node: imports are turned into `await import(...)` at its start: evaluated only when called.
 * Both parts are minified: V8 still scans the whole file on every start, and half the bytes
 * is measurably faster for vup-core. (The release binaries come from `deno compile`, which
 * keeps modules apart and needs none of this.)
 */
import { fileURLToPath } from "node:url";

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

/**
 * `import {a as b} from "node:x";` -> `const {a: b} = await import("node:x");` and so on.
 * The bundle is minified, so import statements need not start a line.
 */
function lazyNodeImports(body: string): { imports: string[]; rest: string } {
  const imports: string[] = [];
  const rest = body.replace(
    /(?<=^|[;}\n])import\s*(\{[^}]*\}|[A-Za-z_$][\w$]*|\*\s*as\s*[A-Za-z_$][\w$]*)\s*from\s*("node:[^"]+")/g,
    (_m, clause: string, spec: string) => {
      const binding = clause.startsWith("{")
        ? clause.replace(/\s+as\s+/g, ": ")
        : clause.startsWith("*")
        ? clause.replace(/^\*\s*as\s*/, "")
        : `{ default: ${clause} }`;
      imports.push(`const ${binding} = await import(${spec});`);
      return ""; // the statement's own ';' stays behind as an empty statement
    },
  );
  // Any static import left (another scheme, a bare name) would not parse inside a function.
  if (
    /(?<=^|[;}\n])import\s*(\{[^}]*\}|[\w$]+|\*\s*as\s*[\w$]+)\s*from\s*"|(?<=^|[;}\n])import\s*"/
      .test(rest)
  ) {
    throw new Error("bundle: a top-level import was left that lazyNodeImports cannot move");
  }
  return { imports, rest };
}

await Deno.mkdir(`${root}dist`, { recursive: true });
const vup = await bundle("src/vup/entry.ts", `${root}dist/vup.bundle.js`);
const main = lazyNodeImports(await bundle("main.ts", `${root}dist/venvoy.bundle.js`));
const text = `${SHEBANG}${vup}
// ---- the rest of venvoy: evaluated only when the invocation is not vup-core
await (async () => {
${main.imports.join("\n")}
${main.rest}
})();
`;
await Deno.writeTextFile(`${out}.tmp`, text);
await Deno.chmod(`${out}.tmp`, 0o755);
await Deno.rename(`${out}.tmp`, out);
console.error(`wrote ${out} (${(text.length / 1024).toFixed(0)} KiB)`);
