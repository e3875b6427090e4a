import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { exportArchive } from "../../../src/archive/export.ts";
import {
  ChecksumMismatchError,
  NameClashError,
  NotAnArchiveError,
} from "../../../src/archive/errors.ts";
import {
  detectFormat,
  importArchive,
  importFile,
  looksLikeDockerfile,
} from "../../../src/archive/import.ts";
import { decodeHeader } from "../../../src/archive/tar.ts";
import { extractVerified } from "../../../src/archive/reader.ts";
import { importTarball } from "../../../src/archive/tarball.ts";
import { PodmanRuntime } from "../../../src/runtime/podman.ts";
import { UsageError } from "../../../src/ui/errors.ts";
import { SavingRunner } from "../../fakes/runner.ts";
import { craftArchive, dockerArchiveImage, manifestFor, sha256, tarBytes } from "./craft.ts";
import { tempDir } from "../../fakes/tmp.ts";

/** A minimal docker-archive, as podman save writes it: its tags are the exporter's. */
const CONFIG = JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { diff_ids: [] } });
const ID = "sha256:" + sha256(CONFIG);
function imageTarBytes(tags = ["localhost/venvoy/demo:latest"], config = CONFIG): Uint8Array {
  return tarBytes([
    { name: `${sha256(config)}.json`, data: config },
    {
      name: "manifest.json",
      data: JSON.stringify([{ Config: `${sha256(config)}.json`, RepoTags: tags, Layers: [] }]),
    },
    {
      name: "repositories",
      data: JSON.stringify(Object.fromEntries(tags.map((t) => {
        const i = t.lastIndexOf(":");
        return [t.slice(0, i), { [t.slice(i + 1)]: "abc" }];
      }))),
    },
  ]);
}

/** podman save prints a docker-archive; load/tag/inspect answer like podman does. */
class FakePodman extends SavingRunner {
  constructor(loadedId = ID, saved = imageTarBytes()) {
    super(saved);
    const inspect = (id: string) =>
      JSON.stringify([{ Id: id.slice(7), Architecture: "amd64", Os: "linux", Config: {} }]);
    this.on(["podman", "image", "inspect"], { stdout: inspect(ID) });
    // Untagged (its names stripped), podman load names the image by its ID.
    this.on(["podman", "load"], { stdout: `Loaded image: ${loadedId}\n` });
    this.on(["podman", "save"], {}); // the bytes come from spawn() below
    this.on(["podman", "tag"], {});
    this.on(["podman", "run"], {}); // the SBOM's OS query (it finds no OS packages)
  }
}

async function setup(saved?: Uint8Array) {
  const root = await tempDir("venvoy-import-");
  const envs = join(root, "a", "environments");
  const envDir = join(envs, "demo");
  const snap = join(root, "a", "projects", "demo");
  await Deno.mkdir(join(envDir, "persist", "python"), { recursive: true });
  await Deno.mkdir(snap, { recursive: true });
  await Deno.writeTextFile(
    join(envDir, "config.yaml"),
    `# my env\nname: demo\nruntime: python\nengine: podman\nimage: localhost/venvoy/demo:latest\nimage_id: ${ID}\n`,
  );
  await Deno.writeTextFile(join(envDir, "persist", "python", "mod.py"), "X = 1\n");
  await Deno.writeTextFile(join(snap, "environment.yml"), "name: demo\ndependencies: []\n");
  const runner = new FakePodman(ID, saved);
  const file = join(root, "demo.tar.gz");
  await exportArchive({
    runner,
    runtime: new PodmanRuntime(runner, "podman", { rootless: false }),
    envDir,
    output: file,
    snapshotDir: snap,
    venvoyVersion: "1.0.0",
  });
  const b = { envs: join(root, "b", "environments"), projects: join(root, "b", "projects") };
  return { root, file, b };
}

Deno.test("importArchive recreates the environment, tags the image, adds snapshots", async () => {
  const { root, file, b } = await setup();
  try {
    const runner = new FakePodman();
    const runtime = new PodmanRuntime(runner, "podman", { rootless: false });
    const now = new Date(Date.UTC(2025, 5, 6, 7, 8, 9));
    const got = await importArchive(file, {
      runtime,
      environmentsDir: b.envs,
      projectsDir: b.projects,
      name: "copy",
      now,
    });
    assertEquals(got.name, "copy");
    assertEquals(got.image, "localhost/venvoy/copy:latest");
    assertEquals(got.imageId, ID);
    const load = runner.argvs.find((a) => a[1] === "load")!;
    assertEquals(load.slice(0, 3), ["podman", "load", "-i"]);
    assert(load[3].endsWith("/image.tar"));
    assert(
      runner.argvs.some((a) => a.join(" ") === `podman tag ${ID} localhost/venvoy/copy:latest`),
    );
    const cfgText = await Deno.readTextFile(join(b.envs, "copy", "config.yaml"));
    assert(cfgText.startsWith("# my env\n"), "comments are kept");
    const cfg = parseYaml(cfgText);
    assertEquals([cfg.name, cfg.engine, cfg.image, cfg.image_id, cfg.runtime], [
      "copy",
      "podman",
      "localhost/venvoy/copy:latest",
      ID,
      "python",
    ]);
    assertEquals(
      await Deno.readTextFile(join(b.envs, "copy", "persist", "python", "mod.py")),
      "X = 1\n",
    );
    assertEquals([...Deno.readDirSync(b.envs)].map((e) => e.name), ["copy"], "no temp left");
    const snaps = [...Deno.readDirSync(join(b.projects, "copy"))].map((e) => e.name).sort();
    assertEquals(snaps, [
      ".last_updated",
      ".latest-state",
      ".lock",
      "environment.yml",
      "environment_20250606_070809.yml",
    ]);

    // Same name again: refused, then --force replaces it and keeps the snapshot history.
    await assert.rejects(
      importArchive(file, {
        runtime,
        environmentsDir: b.envs,
        projectsDir: b.projects,
        name: "copy",
      }),
      (e: unknown) => e instanceof UsageError && /already exists/.test(e.message),
    );
    await importArchive(file, {
      runtime,
      environmentsDir: b.envs,
      projectsDir: b.projects,
      name: "copy",
      force: true,
      now: new Date(Date.UTC(2025, 5, 7, 0, 0, 0)),
    });
    const after = [...Deno.readDirSync(join(b.projects, "copy"))].map((e) => e.name).sort();
    assertEquals(after, [
      ".last_updated",
      ".latest-state",
      ".lock",
      "environment.yml",
      "environment_20250606_070809.yml",
      "environment_20250607_000000.yml",
    ]);
    assertEquals([...Deno.readDirSync(b.envs)].map((e) => e.name), ["copy"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("importArchive refuses an image whose loaded ID differs from the manifest", async () => {
  const { root, file, b } = await setup();
  try {
    const runner = new FakePodman("sha256:" + "99".repeat(32));
    const runtime = new PodmanRuntime(runner, "podman", { rootless: false });
    await assert.rejects(
      importArchive(file, {
        runtime,
        environmentsDir: b.envs,
        projectsDir: b.projects,
        name: "copy",
      }),
      ChecksumMismatchError,
    );
    assertEquals([...Deno.readDirSync(b.envs)], [], "no environment folder and no temp left");
    assert(!runner.argvs.some((a) => a[1] === "tag"), "nothing was tagged");
    assert(!runner.argvs.some((a) => a[1] === "image" && a[2] === "rm"), "nothing was removed");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a hostile archive is refused before any engine command runs", async () => {
  const root = await tempDir("venvoy-import-");
  try {
    const file = join(root, "evil.tar.gz");
    const evil = [{ name: "../../evil", data: "x" }];
    await Deno.writeFile(file, craftArchive(evil, { manifest: manifestFor([]) }));
    const runner = new FakePodman();
    const runtime = new PodmanRuntime(runner, "podman", { rootless: false });
    await assert.rejects(
      importFile(file, {
        runtime,
        environmentsDir: join(root, "envs"),
        projectsDir: join(root, "p"),
      }),
      /escapes the archive/,
    );
    assertEquals(runner.argvs, []);
    assertEquals([...Deno.readDirSync(join(root, "envs"))], []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("detectFormat goes by content, not by name", async () => {
  const dir = await tempDir("venvoy-detect-");
  try {
    const w = (name: string, data: string | Uint8Array) =>
      typeof data === "string"
        ? Deno.writeTextFile(join(dir, name), data)
        : Deno.writeFile(join(dir, name), data);
    await w("env.tar.gz", "name: demo\ndependencies:\n  - numpy=2.1\n");
    await w("environment.yml", "# syntax=docker/dockerfile:1\nFROM python:3.11\nRUN true\n");
    await w("Dockerfile", craftArchive([{ name: "a", data: "b" }]));
    await w("junk.yml", new Uint8Array([0, 1, 2, 3]));
    await w("text.txt", "just some words");
    assertEquals(await detectFormat(join(dir, "env.tar.gz")), "yaml");
    assertEquals(await detectFormat(join(dir, "environment.yml")), "dockerfile");
    assertEquals(await detectFormat(join(dir, "Dockerfile")), "archive-or-tarball");
    await assert.rejects(detectFormat(join(dir, "junk.yml")), NotAnArchiveError);
    await assert.rejects(detectFormat(join(dir, "text.txt")), /not YAML, a Dockerfile/);
    assert(looksLikeDockerfile("\n# c\nARG BASE=x\nFROM $BASE\n"));
    assert(!looksLikeDockerfile("name: FROM x\n"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Member name -> text of an uncompressed tar (the fake engine's view of what it loads). */
function tarTexts(bytes: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  const dec = new TextDecoder();
  for (let pos = 0; pos + 512 <= bytes.length;) {
    const h = decodeHeader(bytes.subarray(pos, pos + 512));
    if (!h) break;
    out[h.name] = dec.decode(bytes.subarray(pos + 512, pos + 512 + h.size));
    pos += 512 + Math.ceil(h.size / 512) * 512;
  }
  return out;
}

Deno.test("issue 11.5: the names inside image.tar are stripped before the load; only venvoy tags", async () => {
  // The exporter (or an attacker) recorded names of other images in image.tar.
  const hostile = imageTarBytes([
    "localhost/venvoy/victim:latest",
    "docker.io/library/python:3.11",
  ]);
  const { root, file, b } = await setup(hostile);
  try {
    const runner = new FakePodman();
    let loadedTar: Record<string, string> = {};
    runner.on(["podman", "load"], (req) => {
      loadedTar = tarTexts(Deno.readFileSync(req.cmd[3]));
      return { stdout: `Loaded image: ${ID}\n` };
    });
    const runtime = new PodmanRuntime(runner, "podman", { rootless: false });
    await importArchive(file, {
      runtime,
      environmentsDir: b.envs,
      projectsDir: b.projects,
      name: "copy",
    });
    const manifest = JSON.parse(loadedTar["manifest.json"]);
    assertEquals(manifest.length, 1);
    assertEquals(manifest[0].RepoTags, undefined, "no RepoTags reach the engine");
    assertEquals(JSON.parse(loadedTar["repositories"]), {}, "no legacy names either");
    assertEquals(
      runner.argvs.filter((a) => a[1] === "tag"),
      [["podman", "tag", ID, "localhost/venvoy/copy:latest"]],
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("issue 11.5: an image.tar whose image is not the manifest's is refused before the load", async () => {
  const other = imageTarBytes(["localhost/venvoy/demo:latest"], CONFIG.replace("amd64", "arm64"));
  const { root, file, b } = await setup(other);
  try {
    const runner = new FakePodman();
    const runtime = new PodmanRuntime(runner, "podman", { rootless: false });
    await assert.rejects(
      importArchive(file, { runtime, environmentsDir: b.envs, projectsDir: b.projects }),
      (e: unknown) =>
        e instanceof ChecksumMismatchError && /image\.tar holds image/.test(e.message),
    );
    assertEquals(runner.argvs, [], "no engine command ran");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

async function treeSnapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string, rel: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = join(d, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) await walk(p, r);
      else if (e.isSymlink) out[r] = `-> ${await Deno.readLink(p)}`;
      else out[r] = await Deno.readTextFile(p);
    }
  };
  await walk(dir, "");
  return out;
}

Deno.test("issue 11.7: a failed import --force leaves the environment, its files and its tag as they were", async () => {
  const { root, file, b } = await setup();
  try {
    const runner = new FakePodman();
    const runtime = new PodmanRuntime(runner, "podman", { rootless: false });
    await importArchive(file, { runtime, environmentsDir: b.envs, projectsDir: b.projects });
    const envDir = join(b.envs, "demo");
    await Deno.writeTextFile(join(envDir, "persist", "python", "mine.py"), "MINE = 1\n");
    const before = await treeSnapshot(envDir);
    const snapsBefore = await treeSnapshot(join(b.projects, "demo"));

    for (
      const [label, answer] of [
        ["the load fails", { code: 125, stderr: "Error: payload does not match" }],
        ["another image loads", { stdout: `Loaded image: sha256:${"77".repeat(32)}\n` }],
      ] as const
    ) {
      const failing = new FakePodman();
      failing.on(["podman", "load"], answer);
      await assert.rejects(
        importArchive(file, {
          runtime: new PodmanRuntime(failing, "podman", { rootless: false }),
          environmentsDir: b.envs,
          projectsDir: b.projects,
          force: true,
        }),
        label,
      );
      assertEquals(await treeSnapshot(envDir), before, `${label}: files unchanged`);
      assertEquals(
        await treeSnapshot(join(b.projects, "demo")),
        snapsBefore,
        `${label}: history unchanged`,
      );
      assertEquals(
        failing.argvs.filter((a) => a[1] === "tag" || a[2] === "rm" || a[1] === "rmi"),
        [],
        `${label}: the old tag was neither moved nor removed`,
      );
      assertEquals([...Deno.readDirSync(b.envs)].map((e) => e.name), ["demo"], "no temp left");
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("issue 11.10: imported snapshots get UTC ids, in any time zone, under the store's lock", async () => {
  const { root, file } = await setup();
  try {
    // A child process in UTC+14: the id must still be the UTC time.
    const script = `
      import { importArchive } from ${
      JSON.stringify(new URL("../../../src/archive/import.ts", import.meta.url).href)
    };
      import { PodmanRuntime } from ${
      JSON.stringify(new URL("../../../src/runtime/podman.ts", import.meta.url).href)
    };
      import { RecordingRunner } from ${
      JSON.stringify(new URL("../../fakes/runner.ts", import.meta.url).href)
    };
      const r = new RecordingRunner();
      r.on(["podman", "load"], { stdout: "Loaded image: ${ID}\\n" });
      r.on(["podman", "tag"], {});
      r.on(["podman", "image", "inspect"], { stdout: JSON.stringify([{ Id: "${ID.slice(7)}" }]) });
      if (new Date(Date.UTC(2025, 0, 1, 12)).getHours() === 12) throw new Error("TZ not applied");
      const got = await importArchive(Deno.args[0], {
        runtime: new PodmanRuntime(r, "podman", { rootless: false }),
        environmentsDir: Deno.args[1] + "/environments",
        projectsDir: Deno.args[1] + "/projects",
        now: new Date(Date.UTC(2025, 5, 6, 23, 30, 0)),
      });
      console.log(JSON.stringify(got.snapshots));
    `;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--ext=ts", script, file, join(root, "tz")],
      env: { TZ: "Pacific/Kiritimati" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert(out.success, stderr);
    const names = [...Deno.readDirSync(join(root, "tz", "projects", "demo"))].map((e) => e.name)
      .sort();
    assert(names.includes("environment_20250606_233000.yml"), `UTC id, got ${names}`);
    assert(names.includes(".lock"), "written through the store (its lock file)");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("issue 11.7: a failed tarball import --force leaves config.yaml, requirements.txt and persist/ as they were", async () => {
  const root = await tempDir("venvoy-tarball-");
  try {
    const envs = join(root, "environments");
    const projects = join(root, "projects");
    const envDir = join(envs, "demo");
    await Deno.mkdir(join(envDir, "persist", "python"), { recursive: true });
    await Deno.writeTextFile(join(envDir, "config.yaml"), "name: demo\nruntime: python\n");
    await Deno.writeTextFile(join(envDir, "requirements.txt"), "numpy==1.0\n");
    await Deno.writeTextFile(join(envDir, "persist", "python", "mine.py"), "MINE = 1\n");
    const members = [
      { name: "env/config.yaml", data: "name: other\nruntime: python\n" },
      { name: "env/requirements.txt", data: "evil==6.6.6\n" },
      { name: "environment.yml", data: "name: other\ndependencies: []\n" },
    ];
    const file = join(root, "t.tar.gz");
    await Deno.writeFile(
      file,
      craftArchive(members, { manifest: { ...manifestFor(members), format: "venvoy-tarball" } }),
    );
    const before = await treeSnapshot(envDir);
    const verified = await extractVerified(file, { tmpDir: envs });
    try {
      await assert.rejects(
        importTarball(verified, {
          environmentsDir: envs,
          projectsDir: projects,
          name: "demo",
          force: true,
          rebuild: () => Promise.reject(new Error("offline build failed")),
        }),
        /offline build failed/,
      );
      assertEquals(await treeSnapshot(envDir), before, "the old environment is untouched");
      assert(
        !(await Deno.stat(join(projects, "demo")).then(() => true, () => false)),
        "no history",
      );

      // The same import succeeding replaces the files and keeps persist/.
      const got = await importTarball(verified, {
        environmentsDir: envs,
        projectsDir: projects,
        name: "demo",
        force: true,
        rebuild: () => Promise.resolve({ image: "localhost/venvoy/demo:latest", imageId: ID }),
      });
      assertEquals(got.name, "demo");
      assertEquals(await Deno.readTextFile(join(envDir, "requirements.txt")), "evil==6.6.6\n");
      assertEquals(
        await Deno.readTextFile(join(envDir, "persist", "python", "mine.py")),
        "MINE = 1\n",
      );
    } finally {
      await verified.cleanup();
    }
    assertEquals([...Deno.readDirSync(envs)].map((e) => e.name), ["demo"], "no temp left");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("issue 11.14: an archive's environment name with control characters is shown escaped", async () => {
  const root = await tempDir("venvoy-import-");
  try {
    const members = [{ name: "env/config.yaml", data: "name: x\n" }];
    const m = manifestFor(members) as { environment: { name: string } };
    m.environment.name = "\x1b[2Jevil\nhint: run this";
    const file = join(root, "a.tar.gz");
    await Deno.writeFile(file, craftArchive(members, { manifest: m }));
    const runner = new FakePodman();
    await assert.rejects(
      importArchive(file, {
        runtime: new PodmanRuntime(runner, "podman", { rootless: false }),
        environmentsDir: join(root, "envs"),
        projectsDir: join(root, "p"),
      }),
      (e: unknown) =>
        e instanceof UsageError &&
        e.message === "invalid environment name '\\x1b[2Jevil\\nhint: run this'",
    );
    assertEquals(runner.argvs, []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("issue 11.16: env/persist as a file is a clear refusal, and nothing changes", async () => {
  const root = await tempDir("venvoy-import-");
  try {
    const members = [
      { name: "env/config.yaml", data: "name: x\n" },
      { name: "env/persist", data: "not a folder" },
    ];
    const file = join(root, "a.tar.gz");
    await Deno.writeFile(file, craftArchive(members));
    const runner = new FakePodman();
    await assert.rejects(
      importArchive(file, {
        runtime: new PodmanRuntime(runner, "podman", { rootless: false }),
        environmentsDir: join(root, "envs"),
        projectsDir: join(root, "p"),
        name: "x",
      }),
      (e: unknown) =>
        e instanceof NameClashError &&
        /env\/persist must be a folder, but it is a file/.test(e.message),
    );
    assertEquals(runner.argvs, []);
    assertEquals([...Deno.readDirSync(join(root, "envs"))], []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("issue 18.1: import takes from env/ only what export may write; the rest is named", async () => {
  const root = await tempDir("venvoy-import-");
  try {
    const hex = ID.slice(7, 19);
    const members = [
      { name: "image.tar", data: new TextDecoder().decode(imageTarBytes()) },
      { name: "env/config.yaml", data: "name: t\nruntime: python\nimage: evil/one:latest\n" },
      { name: "env/requirements.txt", data: "six==1.16.0\n" },
      { name: "env/.config.cache.json", data: '{"key":"x","config":{"image":"evil"}}\n' },
      { name: `env/image-${hex}.sif`, data: "a planted SIF" },
      { name: "env/image.sif", data: "another" },
      { name: "env/.autosave-stamp", data: "stamp" },
      { name: "env/persist/home/.bashrc", data: "echo hi" },
      { name: "env/persist/python/mod.py", data: "X = 1\n" },
      { name: "env/persist/python/.netrc", data: "machine x password y" },
      { name: "env/vendor/six-1.16.0-py2.py3-none-any.whl", data: "wheel" },
      { name: "env/new\u001b[8m", data: "anything new" },
      // A link inside env/ is kept as a link (export writes those; the reader refuses
      // any other).
      { name: "env/requirements-dev.txt", type: "symlink" as const, target: "requirements.txt" },
    ];
    const file = join(root, "a.tar.gz");
    await Deno.writeFile(
      file,
      craftArchive(members, {
        manifest: manifestFor(members, { image: dockerArchiveImage(ID) }),
      }),
    );
    const runner = new FakePodman();
    const got = await importArchive(file, {
      runtime: new PodmanRuntime(runner, "podman", { rootless: false }),
      environmentsDir: join(root, "envs"),
      projectsDir: join(root, "p"),
    });
    const tree: string[] = [];
    const walk = (dir: string, rel: string) => {
      for (const e of Deno.readDirSync(dir)) {
        const r = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory) walk(join(dir, e.name), r);
        else tree.push(r);
      }
    };
    walk(got.envDir, "");
    assertEquals(tree.sort(), [
      "config.yaml",
      "persist/python/mod.py",
      "requirements-dev.txt",
      "requirements.txt",
      "vendor/six-1.16.0-py2.py3-none-any.whl",
    ]);
    assertEquals(Deno.readLinkSync(join(got.envDir, "requirements-dev.txt")), "requirements.txt");
    assertEquals(got.dropped?.sort(), [
      "env/.autosave-stamp",
      "env/.config.cache.json",
      `env/image-${hex}.sif`,
      "env/image.sif",
      "env/new\u001b[8m",
      "env/persist/home/",
      "env/persist/python/.netrc",
    ]);
    const cfg = parseYaml(Deno.readTextFileSync(join(got.envDir, "config.yaml")));
    assertEquals(cfg.image, "localhost/venvoy/t:latest", "the image is venvoy's tag");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("issue 18.1: an import --force refused for its env/ layout leaves the environments folder as it was", async () => {
  const { root, file, b } = await setup();
  try {
    const runtime = new PodmanRuntime(new FakePodman(), "podman", { rootless: false });
    await importArchive(file, { runtime, environmentsDir: b.envs, projectsDir: b.projects });
    const before = await treeSnapshot(b.envs);
    const members = [
      { name: "env/config.yaml", data: "name: demo\n" },
      { name: "env/.config.cache.json", data: "{}" },
      { name: "env/persist/R", data: "a file where a folder must be" },
    ];
    const bad = join(root, "bad.tar.gz");
    await Deno.writeFile(bad, craftArchive(members));
    const runner = new FakePodman();
    await assert.rejects(
      importArchive(bad, {
        runtime: new PodmanRuntime(runner, "podman", { rootless: false }),
        environmentsDir: b.envs,
        projectsDir: b.projects,
        force: true,
      }),
      (e: unknown) =>
        e instanceof NameClashError && /env\/persist\/R must be a folder/.test(e.message),
    );
    assertEquals(await treeSnapshot(b.envs), before);
    assertEquals(runner.argvs, [], "no engine command ran");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
