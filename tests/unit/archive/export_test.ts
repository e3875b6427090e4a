import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { defaultOutputName, exportArchive, saveToStdoutArgv } from "../../../src/archive/export.ts";
import { OutputExistsError } from "../../../src/archive/errors.ts";
import { extractVerified } from "../../../src/archive/reader.ts";
import type { SpawnedProcess, SpawnRequest } from "../../../src/process/mod.ts";
import { DenoRunner } from "../../../src/process/mod.ts";
import { PodmanRuntime } from "../../../src/runtime/podman.ts";
import { DockerRuntime } from "../../../src/runtime/docker.ts";
import { RecordingRunner } from "../../fakes/runner.ts";
import { UsageError } from "../../../src/ui/errors.ts";
import { tempDir } from "../../fakes/tmp.ts";

const IMAGE_ID = "sha256:" + "ab".repeat(32);
const SAVED = new TextEncoder().encode("pretend docker-archive bytes\n".repeat(5000));

/** A runner whose `podman save` writes SAVED to stdout and whose inspect finds the image. */
class SaveRunner extends RecordingRunner {
  saveCode = 0;
  constructor() {
    super();
    this.on(["podman", "image", "inspect"], {
      stdout: JSON.stringify([{
        Id: IMAGE_ID.slice(7),
        RepoDigests: [],
        Architecture: "amd64",
        Os: "linux",
        Config: { Labels: {} },
      }]),
    });
    this.on(["podman", "save"], {}); // the bytes come from spawn() below
    this.on(["podman", "run"], {}); // the SBOM's OS query (it finds no OS packages)
  }
  override spawn(req: SpawnRequest): SpawnedProcess {
    const proc = super.spawn(req);
    const code = this.saveCode;
    return {
      ...proc,
      stdout: new ReadableStream({
        start(c) {
          for (let i = 0; i < SAVED.length; i += 10_000) c.enqueue(SAVED.slice(i, i + 10_000));
          c.close();
        },
      }),
      stderr: new ReadableStream({
        start(c) {
          if (code) c.enqueue(new TextEncoder().encode("Error: boom\n"));
          c.close();
        },
      }),
      status: proc.status.then((s) => ({ ...s, code })),
    };
  }
}

async function fixtureEnv(root: string) {
  const envDir = join(root, "environments", "demo");
  const snap = join(root, "projects", "demo");
  await Deno.mkdir(join(envDir, "persist", "python", "lib"), { recursive: true });
  await Deno.mkdir(join(envDir, "persist", "cache", "pip"), { recursive: true });
  await Deno.mkdir(snap, { recursive: true });
  await Deno.writeTextFile(
    join(envDir, "config.yaml"),
    [
      "name: demo",
      "runtime: python",
      "python_version: '3.11'",
      "engine: podman",
      "base_image: localhost/venvoy-lab/python:3.11",
      "base_image_pinned: localhost/venvoy-lab/python@sha256:" + "cd".repeat(32),
      "image: localhost/venvoy/demo:latest",
      "image_id: " + IMAGE_ID,
      "package_manager: pip",
      "",
    ].join("\n"),
  );
  await Deno.writeTextFile(join(envDir, "Dockerfile"), "FROM scratch\n");
  await Deno.writeTextFile(join(envDir, "requirements.txt"), "six==1.16.0\n");
  await Deno.writeTextFile(
    join(envDir, "base-packages.json"),
    JSON.stringify({
      python: [{ name: "six", version: "1.16.0" }],
      os: [{ name: "libc6", version: "2.36-9" }],
    }),
  );
  await Deno.writeTextFile(join(envDir, "persist", "python", "lib", "real.txt"), "x");
  await Deno.symlink("real.txt", join(envDir, "persist", "python", "lib", "alias.txt"));
  await Deno.symlink("/etc/hostname", join(envDir, "outside-link"));
  await Deno.writeTextFile(join(envDir, "persist", "cache", "pip", "junk"), "cache");
  await Deno.writeTextFile(join(snap, "environment.yml"), "name: demo\n");
  return { envDir, snap };
}

Deno.test("exportArchive writes a verifiable archive with manifest, sums, restore.sh, README", async () => {
  const root = await tempDir("venvoy-export-");
  try {
    const { envDir, snap } = await fixtureEnv(root);
    const runner = new SaveRunner();
    const runtime = new PodmanRuntime(runner, "podman", { rootless: false });
    const output = join(root, "out", "demo.tar.gz");
    const phases = new Set<string>();
    const res = await exportArchive({
      runner,
      runtime,
      envDir,
      output,
      snapshotDir: snap,
      venvoyVersion: "9.9.9",
      now: new Date("2025-03-04T05:06:07Z"),
      onProgress: (p) => phases.add(p.phase),
    });
    assertEquals(res.path, output);
    assert(
      runner.argvs.some((a) =>
        a.join(" ") === "podman save --format docker-archive localhost/venvoy/demo:latest"
      ),
    );
    assertEquals([...phases].sort(), ["save", "write"]);
    assertEquals([...Deno.readDirSync(join(root, "out"))].map((e) => e.name), ["demo.tar.gz"]);

    const got = await extractVerified(output, { tmpDir: root });
    const m = got.manifest;
    assertEquals(m.format, "venvoy-archive");
    assertEquals(m.format_version, 1);
    assertEquals(m.venvoy_version, "9.9.9");
    assertEquals(m.created, "2025-03-04T05:06:07.000Z");
    assertEquals(m.engine, "podman");
    assertEquals(m.image.id, IMAGE_ID);
    assertEquals(m.image.architecture, "amd64");
    assertEquals(m.image.base, "localhost/venvoy-lab/python@sha256:" + "cd".repeat(32));
    assertEquals(m.image.docker_archive, "image.tar");
    assertEquals(m.packages.python, [{ name: "six", version: "1.16.0" }]);
    assertEquals(m.packages.conda, []);
    assertEquals(m.host.system, Deno.build.os);
    assertEquals(Object.keys(m.members).sort(), [
      "README.md",
      "SHA256SUMS",
      "env/Dockerfile",
      "env/base-packages.json",
      "env/config.yaml",
      "env/persist/python/lib/alias.txt",
      "env/persist/python/lib/real.txt",
      "env/requirements.txt",
      "environment.yml",
      "image.tar",
      "restore.sh",
      "sbom.cdx.json",
    ]);
    assertEquals(m.members["env/persist/python/lib/alias.txt"], {
      type: "symlink",
      target: "real.txt",
    });
    assertEquals(res.leftOut, ["outside-link"], "not on the allow-list: left out, reported");
    assertEquals(m.included, [
      "README.md",
      "restore.sh",
      "sbom.cdx.json",
      "environment.yml",
      "image.tar",
      "SHA256SUMS",
      "manifest.json",
      "env/Dockerfile",
      "env/base-packages.json",
      "env/config.yaml",
      "env/persist/python/",
      "env/requirements.txt",
    ]);
    assertEquals(await Deno.readFile(join(got.dir, "image.tar")), SAVED);
    const sums = await Deno.readTextFile(join(got.dir, "SHA256SUMS"));
    assert(sums.includes(`${(m.members["image.tar"] as { sha256: string }).sha256}  image.tar\n`));
    const restore = await Deno.readTextFile(join(got.dir, "restore.sh"));
    assert(restore.includes("IMAGE_TAG=localhost/venvoy/demo:latest\n"));
    assert(restore.includes(`IMAGE_ID=${IMAGE_ID}\n`));
    assert(!/\{\{[A-Z_]+\}\}/.test(restore));
    const readme = await Deno.readTextFile(join(got.dir, "README.md"));
    assert(readme.includes("**demo**") && !readme.includes("@@"));
    await got.cleanup();
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("exportArchive: persist/home, credentials and unknown files stay out (item 8)", async () => {
  const root = await tempDir("venvoy-export-");
  try {
    const { envDir, snap } = await fixtureEnv(root);
    // What a --no-home session leaves in $HOME=/opt/venvoy/persist/home, and a venv's pip.conf.
    const home = join(envDir, "persist", "home");
    await Deno.mkdir(join(home, ".config", "gh"), { recursive: true });
    const SECRET = "ghp_SECRETTOKEN0123456789";
    await Deno.writeTextFile(
      join(home, ".netrc"),
      `machine pypi.org login me password ${SECRET}\n`,
    );
    await Deno.writeTextFile(join(home, ".config", "gh", "hosts.yml"), `oauth_token: ${SECRET}\n`);
    await Deno.writeTextFile(join(home, ".bash_history"), `export TOKEN=${SECRET}\n`);
    await Deno.writeTextFile(join(home, "token"), SECRET);
    await Deno.writeTextFile(
      join(envDir, "persist", "python", "pip.conf"),
      `[global]\nindex-url = https://me:${SECRET}@example.org/simple\n`,
    );
    await Deno.writeTextFile(join(envDir, "persist", "python", ".netrc"), SECRET);
    await Deno.writeTextFile(join(envDir, "notes-with-token.txt"), SECRET);
    await Deno.writeTextFile(join(envDir, "build.log"), "building\n");
    // The auto-save's stamp of a saved state (snapshot/quick.ts): venvoy's own, left out quietly.
    await Deno.writeTextFile(join(envDir, ".autosave-stamp"), "stamp\n");
    await Deno.mkdir(join(envDir, "vendor"));
    await Deno.writeTextFile(join(envDir, "vendor", "six-1.16.0-py2.py3-none-any.whl"), "w");
    // A link in an allowed folder does not smuggle a file from outside into the archive.
    await Deno.symlink(join(home, ".netrc"), join(envDir, "vendor", "notes.txt"));

    const runner = new SaveRunner();
    const runtime = new PodmanRuntime(runner, "podman", { rootless: false });
    const output = join(root, "demo.tar.gz");
    const res = await exportArchive({
      runner,
      runtime,
      envDir,
      output,
      snapshotDir: snap,
      venvoyVersion: "1",
    });
    // Nothing of it in the archive's bytes at all (every member, compressed or not).
    const tar = new DenoRunner();
    const listing = await tar.run({ cmd: ["tar", "tzf", output] });
    assertEquals(listing.code, 0);
    assert(!/persist\/home|netrc|pip\.conf|token|history|build\.log/.test(listing.stdout));
    const raw = await tar.run({
      cmd: ["sh", "-c", 'gzip -dc "$1" | grep -c "$2" || true', "-", output, SECRET],
    });
    assertEquals(raw.stdout.trim(), "0", "the token is nowhere in the archive");

    const got = await extractVerified(output, { tmpDir: root });
    try {
      const names = Object.keys(got.manifest.members);
      assert(!names.some((n) => n.includes("persist/home")), names.join("\n"));
      assert(names.includes("env/vendor/six-1.16.0-py2.py3-none-any.whl"));
      assert(got.manifest.included!.includes("env/vendor/"));
      assert(got.manifest.included!.includes("env/persist/python/"));
      assert(!got.manifest.included!.some((n) => n.includes("home")));
    } finally {
      await got.cleanup();
    }
    assertEquals(res.skipped, ["vendor/notes.txt"]);
    assertEquals(res.leftOut, [
      "notes-with-token.txt",
      "outside-link",
      "persist/home",
      "persist/python/.netrc",
      "persist/python/pip.conf",
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("exportArchive: a file name with a newline is refused, exit 2, nothing written (item 15)", async () => {
  const root = await tempDir("venvoy-export-");
  try {
    const { envDir } = await fixtureEnv(root);
    const site = join(envDir, "persist", "python", "lib");
    await Deno.writeTextFile(join(site, "evil\nname.txt"), "x");
    const runner = new SaveRunner();
    const runtime = new PodmanRuntime(runner, "podman", { rootless: false });
    const output = join(root, "out", "demo.tar.gz");
    await Deno.mkdir(join(root, "out"));
    await assert.rejects(
      exportArchive({ runner, runtime, envDir, output, venvoyVersion: "1" }),
      (e) =>
        e instanceof UsageError && e.exitCode === 2 &&
        e.message.includes(JSON.stringify("persist/python/lib/evil\nname.txt")),
    );
    assert(!runner.argvs.some((a) => a[1] === "save"), "refused before the image is saved");
    assertEquals([...Deno.readDirSync(join(root, "out"))], [], "nothing written");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("exportArchive: a failing save leaves no file and reports the engine's error", async () => {
  const root = await tempDir("venvoy-export-");
  try {
    const { envDir } = await fixtureEnv(root);
    const runner = new SaveRunner();
    runner.saveCode = 125;
    const runtime = new PodmanRuntime(runner, "podman", { rootless: false });
    const output = join(root, "out.tar.gz");
    await assert.rejects(
      exportArchive({ runner, runtime, envDir, output, venvoyVersion: "1" }),
      /podman save failed \(exit 125\):\nError: boom/,
    );
    const left = [...Deno.readDirSync(root)].map((e) => e.name);
    assertEquals(left.sort(), ["environments", "projects"], "no partial file, no spool");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("exportArchive refuses an existing output before saving anything", async () => {
  const root = await tempDir("venvoy-export-");
  try {
    const { envDir } = await fixtureEnv(root);
    const runner = new SaveRunner();
    const runtime = new PodmanRuntime(runner, "podman", { rootless: false });
    const output = join(root, "out.tar.gz");
    await Deno.writeTextFile(output, "keep me");
    await assert.rejects(
      exportArchive({ runner, runtime, envDir, output, venvoyVersion: "1" }),
      OutputExistsError,
    );
    assert(!runner.argvs.some((a) => a[1] === "save"));
    assertEquals(await Deno.readTextFile(output), "keep me");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("save argv per engine, and the default output name", () => {
  const r = new RecordingRunner();
  assertEquals(saveToStdoutArgv(new PodmanRuntime(r, "/usr/bin/podman"), "img:1"), [
    "/usr/bin/podman",
    "save",
    "--format",
    "docker-archive",
    "img:1",
  ]);
  assertEquals(saveToStdoutArgv(new DockerRuntime(r), "img:1"), ["docker", "save", "img:1"]);
  const when = new Date(2025, 0, 2, 3, 4, 5);
  assertEquals(defaultOutputName("demo", "archive", when), "demo-archive-20250102_030405.tar.gz");
  assertEquals(defaultOutputName("demo", "yaml", when), "demo-yaml-20250102_030405.yml");
});

const shellcheck = new DenoRunner().which("shellcheck");
if (!shellcheck) {
  console.error("skipping the restore.sh shellcheck test: shellcheck is not installed");
}

Deno.test({
  name: "restore.sh template renders shellcheck-clean, with hostile values quoted",
  ignore: !shellcheck,
  fn: async () => {
    const { renderRestoreScript } = await import("../../../src/archive/templates.ts");
    const script = renderRestoreScript({
      environment: { name: "x'; rm -rf / #", runtime: null },
      image: {
        tag: "localhost/venvoy/x:latest",
        id: "sha256:00",
        docker_archive: "image.tar",
        sif: null,
        architecture: null,
        os: null,
        base: null,
      },
      // deno-lint-ignore no-explicit-any
    } as any);
    assert(script.includes(`ENV_NAME='x'"'"'; rm -rf / #'\n`));
    const res = await new DenoRunner().run({ cmd: ["shellcheck", "-s", "sh", "-"], input: script });
    assertEquals(res.code, 0, res.stdout + res.stderr);
  },
});
