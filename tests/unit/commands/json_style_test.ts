/**
 * Every --json uses snake_case keys, like config.yaml and environment.yml (docs/json.md).
 * The builders are checked on samples that fill every field; package-managers and
 * update --check are run as the CLI (no containers: a file:// release folder).
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { toJson } from "../../../src/commands/runtime_info_action.ts";
import { importJson } from "../../../src/commands/import_action.ts";
import { packageManagersJson } from "../../../src/commands/package_managers_action.ts";
import type { Detection } from "../../../src/runtime/detect.ts";
import { signedRelease, testKey, writeFolder } from "../release/signed_release.ts";

const SNAKE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

/** Every key at any depth, as paths, that is not snake_case. */
function notSnake(value: unknown, at = "$"): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => notSnake(v, `${at}[${i}]`));
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([k, v]) => [
    ...(SNAKE.test(k) ? [] : [`${at}.${k}`]),
    ...notSnake(v, `${at}.${k}`),
  ]);
}

const detection: Detection = {
  runtime: "apptainer",
  chosen: {
    name: "apptainer",
    path: "/usr/bin/apptainer",
    version: "1.4.5",
    usable: true,
    reason: null,
  },
  reason: "HPC system: apptainer preferred",
  forced: false,
  hpc: {
    hpc: true,
    scheduler: "slurm",
    inJob: true,
    evidence: ["SLURM_JOB_ID=42"],
    weakSignals: ["host name login01 looks like a login node"],
  },
  runtimes: [
    { name: "apptainer", path: "/usr/bin/apptainer", version: "1.4.5", usable: true, reason: null },
    {
      name: "singularity",
      path: "/usr/bin/singularity",
      version: "1.4.5",
      usable: true,
      reason: null,
      aliasOf: "apptainer",
    },
    {
      name: "docker",
      path: "/usr/bin/docker",
      version: "4.3.1",
      usable: true,
      reason: "docker CLI talking to Podman Engine 4.3.1",
      backend: "podman",
    },
  ],
  platform: { os: "linux", arch: "x86_64" },
};

Deno.test("runtime-info --json: in_job, weak_signals, alias_of (no camelCase left)", () => {
  const j = toJson(detection);
  assertEquals(notSnake(j), []);
  assertEquals(j.hpc.in_job, true);
  assertEquals(j.hpc.weak_signals, ["host name login01 looks like a login node"]);
  assertEquals(j.runtimes.map((r) => r.alias_of), [null, "apptainer", null]);
});

Deno.test("import --json: env_dir and image_id", () => {
  const j = importJson({
    format: "archive",
    name: "study",
    envDir: "/h/environments/study",
    engine: "podman",
    image: "localhost/venvoy/study:latest",
    imageId: "sha256:abc",
    from: { venvoy_version: "0.1.0", created: "2026-12-01T10:00:00Z", engine: "docker" },
    snapshots: ["environment_20261201_100000.yml"],
    unmet: [],
  });
  assertEquals(notSnake(j), []);
  assertEquals(j.env_dir, "/h/environments/study");
  assertEquals(j.image_id, "sha256:abc");
});

Deno.test("package-managers --json: every manager, its presence and version", () => {
  const j = packageManagersJson({ name: "study", config: { as_of: "2026-01-31" } }, [
    { name: "pip", for: "x", examples: ["pip install a"], present: true, version: "25.1" },
    { name: "R", for: "y", examples: [], present: false },
  ]);
  assertEquals(notSnake(j), []);
  assertEquals(j, {
    environment: "study",
    as_of: "2026-01-31",
    managers: [
      { name: "pip", for: "x", examples: ["pip install a"], present: true, version: "25.1" },
      { name: "R", for: "y", examples: [], present: false, version: null },
    ],
  });
});

const MAIN = new URL("../../../main.ts", import.meta.url).pathname;

async function cli(args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MAIN, ...args],
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("the CLI: package-managers --json and update --check --json print snake_case JSON", async () => {
  const dir = await Deno.makeTempDir({ prefix: "venvoy-json-" });
  try {
    const rel = join(dir, "release");
    // A release signed with a test key, which the CLI trusts through VENVOY_RELEASE_PUBKEY.
    const signer = await testKey();
    await writeFolder(rel, await signedRelease({ version: "99.0.0", assets: {}, signer }));
    await Deno.writeTextFile(join(dir, "key.pem"), signer.key.pem);
    const env = {
      HOME: dir,
      VENVOY_HOME: join(dir, "home"),
      VENVOY_PROJECTS: join(dir, "projects"),
      VENVOY_RELEASE_URL: pathToFileURL(rel).href,
      VENVOY_RELEASE_PUBKEY: join(dir, "key.pem"),
    };
    const pm = await cli(["package-managers", "--json"], env);
    assertEquals(pm.code, 0, pm.stderr);
    const pmj = JSON.parse(pm.stdout);
    assertEquals(notSnake(pmj), []);
    assertEquals(pmj.managers.map((m: { name: string }) => m.name), ["pip", "uv", "mamba", "R"]);

    const up = await cli(["update", "--check", "--json"], env);
    assertEquals(up.code, 0, up.stderr);
    const upj = JSON.parse(up.stdout);
    assertEquals(notSnake(upj), []);
    assertEquals(upj.latest, "99.0.0");
    assertEquals(upj.update_available, true);
    assertEquals(upj.updated, false);
    assertEquals(upj.path, null);
    assert(upj.release_url.startsWith("file://"), upj.release_url);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
