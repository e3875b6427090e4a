/**
 * The rule that vup-core and the `venvoy run` fast path load no node: module (Deno's Node
 * compatibility costs start-up time on every activation and every batch job), checked by
 * loading the real entry point in a child and reading V8's log of the scripts it compiled
 * (`--log-function-events` writes a `script-details,<id>,<url>` line per script). Modules
 * are compiled when they are evaluated, so the log lists what ran, not what is bundled.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type EnvConfig, writeConfig } from "../../../src/env/config.ts";
import { stubBin } from "../../fakes/stub_bin.ts";
import { envConfig } from "../../fakes/env_config.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const MAIN = join(ROOT, "main.ts");

/** The scripts a `deno run` of `args` compiled, by URL. */
async function loaded(
  dir: string,
  args: string[],
  env: Record<string, string>,
  log = join(dir, `v8-${crypto.randomUUID().slice(0, 8)}.log`),
): Promise<{ scripts: string[]; code: number; stderr: string }> {
  const res = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `--config=${join(ROOT, "deno.json")}`,
      `--v8-flags=--log-function-events,--logfile=${log},--no-logfile-per-isolate`,
      ...args,
    ],
    cwd: dir,
    // Deno's own settings (DENO_DIR, certificates, proxies) pass through; VENVOY_* are set.
    env: { ...Deno.env.toObject(), ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const scripts = scriptsIn(await Deno.readTextFile(log));
  return {
    scripts: [...new Set(scripts)],
    code: res.code,
    stderr: new TextDecoder().decode(res.stderr),
  };
}

function scriptsIn(text: string): string[] {
  return [...new Set([...text.matchAll(/^script-details,\d+,([^,\n]+)/gm)].map((m) => m[1]))];
}

const isNode = (s: string) => s.startsWith("node:") || s.startsWith("ext:deno_node/");
const ours = (s: string) => s.startsWith("file://") ? fileURLToPath(s).slice(ROOT.length) : null;

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "venvoy-loaded-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The node-compat scripts every Deno process compiles, whatever it imports. */
async function baseline(dir: string): Promise<Set<string>> {
  const empty = join(dir, "empty.ts");
  await Deno.writeTextFile(empty, "export {};\n");
  const { scripts } = await loaded(dir, [empty], { PATH: Deno.env.get("PATH") ?? "" });
  return new Set(scripts.filter(isNode));
}

Deno.test("the log sees a node: module when one is loaded (the probe works)", () =>
  withDir(async (dir) => {
    const probe = join(dir, "probe.ts");
    await Deno.writeTextFile(probe, 'import { join } from "node:path";\njoin("a");\n');
    const base = await baseline(dir);
    const { scripts } = await loaded(dir, [probe], { PATH: Deno.env.get("PATH") ?? "" });
    assert.ok(scripts.includes("node:path"), scripts.join("\n"));
    assert.ok(!base.has("node:path"));
  }));

Deno.test("vup-core loads src/vup and src/util/path.ts only, and no node: module", () =>
  withDir(async (dir) => {
    const home = join(dir, "home");
    await Deno.mkdir(join(home, "proj", ".venv", "main", "bin"), { recursive: true });
    await Deno.writeTextFile(join(home, "proj", ".venv", "main", "bin", "activate"), "");
    const base = await baseline(dir);
    const res = await loaded(dir, [MAIN, "vup-core", "ls"], {
      HOME: home,
      PWD: join(home, "proj"),
      PATH: Deno.env.get("PATH") ?? "",
    });
    assert.equal(res.code, 0, res.stderr);
    const files = res.scripts.map(ours).filter((f): f is string => f !== null).sort();
    assert.ok(files.includes("src/vup/core.ts"), files.join("\n"));
    for (const f of files) {
      assert.ok(
        f === "main.ts" || f === "src/util/path.ts" || /^src\/vup\/[a-z_]+\.ts$/.test(f),
        `vup-core loaded ${f}`,
      );
    }
    assert.deepEqual(res.scripts.filter((s) => isNode(s) && !base.has(s)), []);
    assert.deepEqual(
      res.scripts.filter((s) =>
        !s.startsWith("file://") && !s.startsWith("ext:") && !s.startsWith("node:") && s !== ""
      ),
      [],
    );
  }));

Deno.test("`venvoy run NAME --command …` starts its container before any node: module loads", () =>
  withDir(async (dir) => {
    const state = join(dir, "state");
    const envDir = join(state, "environments", "study");
    const cfg: EnvConfig = envConfig({
      name: "study",
      created: "2026-11-21T10:00:00.000Z",
      base_image: "localhost/venvoy-lab/python:3.11",
      base_image_pinned: "sha256:" + "f".repeat(64),
      image_id: "sha256:" + "e".repeat(64),
    });
    await writeConfig(envDir, cfg); // with its parse cache, as init leaves it
    await Deno.mkdir(join(envDir, "persist"), { recursive: true });
    // The stub engine keeps a copy of V8's log as it stands when the first `podman run`
    // starts (auto-save may run another container later, after it loaded node:path).
    const log = join(dir, "v8-run.log");
    const atRun = join(dir, "v8-at-run.log");
    const bin = await stubBin({
      podman: {
        script:
          `#!/bin/sh\n[ "$1" = run ] && [ ! -e '${atRun}' ] && cp '${log}' '${atRun}'\nexit 0`,
      },
    });
    try {
      const base = await baseline(dir);
      const { stderr } = await loaded(dir, [MAIN, "run", "study", "--command", "true"], {
        HOME: join(dir, "home"),
        VENVOY_HOME: state,
        VENVOY_PROJECTS: join(dir, "projects"),
        VENVOY_ENGINE: "podman",
        PATH: `${bin}:${Deno.env.get("PATH") ?? ""}`,
        NO_COLOR: "1",
      }, log);
      const before = scriptsIn(await Deno.readTextFile(atRun).catch(() => ""));
      assert.ok(
        before.some((s) => ours(s) === "src/session/run.ts"),
        `podman run never started\n${stderr}`,
      );
      assert.deepEqual(before.filter((s) => isNode(s) && !base.has(s)), []);
      const npm = before.filter((s) =>
        s.startsWith("file://") && !ours(s)?.startsWith("src/") && ours(s) !== "main.ts"
      );
      assert.deepEqual(npm, [], "no npm module either");
    } finally {
      await Deno.remove(bin, { recursive: true });
    }
  }));
