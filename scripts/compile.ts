/**
 * deno task compile [--target T]… [--out DIR]
 *
 * `deno compile` for every release target (src/release/location.ts) into
 * dist/bin/venvoy-<target>[.exe], with templates/ and shell/ embedded. The release
 * workflow runs it, then `deno task release:local --binaries dist/bin` for the folder it
 * publishes.
 *
 * deno compile downloads a runtime (denort) for each target from Deno's download
 * servers, so this fails where those cannot be reached (as on the project's own
 * machines); it says so and stops at the first failure. DENORT_BIN points deno at a
 * denort binary already at hand, for the host target only.
 */
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import denoJson from "../deno.json" with { type: "json" };
import { assetName, RELEASE_TARGETS, type ReleaseTarget } from "../src/release/location.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const EMBEDDED = ["templates", "shell"];

function fail(message: string, hint?: string): never {
  console.error(`compile: error: ${message}`);
  if (hint) console.error(`hint: ${hint}`);
  Deno.exit(1);
}

function parseArgs(args: string[]): { targets: ReleaseTarget[]; out: string } {
  const targets: ReleaseTarget[] = [];
  let out = join(root, "dist", "bin");
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split(/=(.*)/s, 2);
    const value = () => inline ?? args[++i] ?? fail(`${flag} needs a value`);
    if (flag === "--out") out = resolve(value());
    else if (flag === "--target") {
      const t = value();
      const known = RELEASE_TARGETS.find((r) => r === t);
      if (!known) fail(`unknown target '${t}'`, `one of: ${RELEASE_TARGETS.join(", ")}`);
      targets.push(known);
    } else {fail(
        `unknown option '${args[i]}'`,
        "usage: deno task compile [--target T]… [--out DIR]",
      );}
  }
  return { targets: targets.length ? targets : [...RELEASE_TARGETS], out };
}

async function run(args: string[]): Promise<{ ok: boolean; code: number; stdout: string }> {
  const res = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).output();
  return { ok: res.success, code: res.code, stdout: new TextDecoder().decode(res.stdout) };
}

async function nonEmptyDir(path: string): Promise<boolean> {
  try {
    for await (const _ of Deno.readDir(path)) return true;
  } catch { /* missing */ }
  return false;
}

if (import.meta.main) {
  const { targets, out } = parseArgs(Deno.args);
  const includes: string[] = [];
  for (const dir of EMBEDDED) {
    if (await nonEmptyDir(join(root, dir))) includes.push("--include", dir);
    else console.error(`compile: note: ${dir}/ is missing or empty; nothing of it to embed`);
  }
  await Deno.mkdir(out, { recursive: true });

  // Type-check once, then compile each target without checking again.
  if (!(await run(["check", "main.ts"])).ok) fail("main.ts does not type-check");

  for (const target of targets) {
    const output = join(out, assetName(target));
    console.error(`compile: ${target} -> ${output}`);
    const res = await run([
      "compile",
      "-A",
      "--no-check",
      ...includes,
      "--target",
      target,
      "--output",
      output,
      "main.ts",
    ]);
    if (!res.ok) {
      fail(
        `deno compile for ${target} failed (exit ${res.code})`,
        "deno compile downloads the runtime for each target from Deno's download servers " +
          "(dl.deno.land); run it where they can be reached, as the release workflow does",
      );
    }
    if (target === Deno.build.target) {
      const said = await new Deno.Command(output, { args: ["--version"], stdin: "null" }).output();
      const version = new TextDecoder().decode(said.stdout).trim();
      if (!said.success || version !== denoJson.version) {
        fail(`${output} --version said '${version}', not ${denoJson.version}`);
      }
    }
  }
  console.error(`compile: ${targets.length} binaries in ${out} (venvoy ${denoJson.version})`);
}
