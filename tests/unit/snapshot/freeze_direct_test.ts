/**
 * Freeze of packages not installed from the index (PEP 610 direct_url.json): parsing, the
 * plan handed to freeze_direct.py with exact podman argv (a RecordingRunner plays the
 * container), and freeze_direct.py itself rebuilding a wheel from RECORD (host python3).
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { RecordingRunner } from "../../fakes/runner.ts";
import { type EnvConfig, writeConfig } from "../../../src/env/config.ts";
import { statePaths } from "../../../src/env/paths.ts";
import { DenoRunner, type RunRequest } from "../../../src/process/mod.ts";
import { parseDirectUrl } from "../../../src/snapshot/direct_url.ts";
import { type DirectPlanEntry, freezeEnv } from "../../../src/snapshot/freeze_run.ts";
import { VenvoyError } from "../../../src/ui/errors.ts";
import { tempDir } from "../../fakes/tmp.ts";
import { envConfig } from "../../fakes/env_config.ts";

const PODMAN = "/usr/bin/podman";
const SITE = "persist/python/lib/python3.11/site-packages";
const IN_SITE = `/opt/venvoy/${SITE}`;

Deno.test("direct_url.json: files, folders, VCS commits, remote archives (PEP 610)", () => {
  assertEquals(
    parseDirectUrl(JSON.stringify({
      url: "file:///home/me/my%20pkg-1.0-py3-none-any.whl",
      archive_info: { hashes: { sha256: "a".repeat(64) } },
    })),
    { kind: "file", path: "/home/me/my pkg-1.0-py3-none-any.whl", sha256: "a".repeat(64) },
  );
  assertEquals(
    parseDirectUrl(JSON.stringify({
      url: "file:///home/me/x.tar.gz",
      archive_info: { hash: "sha256=" + "b".repeat(64) },
    })),
    { kind: "file", path: "/home/me/x.tar.gz", sha256: "b".repeat(64) },
  );
  assertEquals(
    parseDirectUrl(JSON.stringify({ url: "file:///src/proj", dir_info: { editable: true } })),
    { kind: "dir", path: "/src/proj", editable: true, subdirectory: null },
  );
  assertEquals(
    parseDirectUrl(JSON.stringify({
      url: "https://github.com/o/r.git",
      vcs_info: { vcs: "git", commit_id: "0123abc", requested_revision: "main" },
      subdirectory: "py",
    })),
    { kind: "vcs", requirement: "git+https://github.com/o/r.git@0123abc#subdirectory=py" },
  );
  assertEquals(
    parseDirectUrl(JSON.stringify({
      url: "https://example.org/x-1.0.tar.gz",
      archive_info: { hashes: { sha256: "c".repeat(64) } },
    })),
    { kind: "url", requirement: `https://example.org/x-1.0.tar.gz#sha256=${"c".repeat(64)}` },
  );
  assertEquals(parseDirectUrl("not json"), null);
  assertEquals(parseDirectUrl(JSON.stringify({ url: "ftp://x/y", archive_info: {} })), null);
  assertEquals(
    parseDirectUrl(JSON.stringify({ url: "file://otherhost/x", dir_info: {} })),
    null,
    "a file URL on another host is no local path",
  );
});

async function world() {
  const root = await tempDir("venvoy-freeze-direct-");
  const paths = statePaths((n) =>
    ({
      HOME: root,
      VENVOY_HOME: join(root, "state"),
      VENVOY_PROJECTS: join(root, "proj"),
    } as Record<string, string>)[n]
  );
  const dir = join(paths.environments, "demo");
  const site = join(dir, SITE);
  await Deno.mkdir(site, { recursive: true });
  await Deno.mkdir(join(dir, "vendor"), { recursive: true });
  const cfg: EnvConfig = envConfig();
  await writeConfig(dir, cfg);
  await Deno.writeTextFile(
    join(dir, "base-packages.json"),
    JSON.stringify({ python: [{ name: "pip", version: "23.0.1" }], r: [], conda: [], os: [] }),
  );
  const runner = new RecordingRunner({ paths: { podman: PODMAN } });
  const notes: string[] = [];
  const ctx = {
    runner,
    paths,
    engine: null,
    note: (m: string) => notes.push(m),
    user: { uid: 1, gid: 1 },
  };
  const installed = async (name: string, version: string, directUrl?: unknown) => {
    const info = join(site, `${name}-${version}.dist-info`);
    await Deno.mkdir(info);
    if (directUrl) {
      await Deno.writeTextFile(join(info, "direct_url.json"), JSON.stringify(directUrl));
    }
  };
  return { root, dir, site, runner, ctx, notes, installed };
}

function mountSource(req: RunRequest, target: string): string {
  const m = req.cmd.find((a) => a.startsWith("type=bind,") && a.includes(`,target=${target}`));
  assert(m, `no mount at ${target}`);
  return m.split(",")[1].slice("source=".length);
}

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

Deno.test("freeze: packages from files, folders and VCS get wheels; only index ones are pinned", async () => {
  const w = await world();
  try {
    const wheels = join(w.root, "wheels");
    const proj = join(w.root, "my proj");
    await Deno.mkdir(wheels);
    await Deno.mkdir(proj);
    const localWhl = join(wheels, "localpkg-1.0-py3-none-any.whl");
    await Deno.writeTextFile(localWhl, "local wheel bytes");
    const changedWhl = join(wheels, "changed-1.0-py3-none-any.whl");
    await Deno.writeTextFile(changedWhl, "rebuilt since");
    await w.installed("six", "1.16.0");
    await w.installed("localpkg", "1.0", {
      url: `file://${localWhl}`,
      archive_info: { hashes: { sha256: sha("local wheel bytes") } },
    });
    await w.installed("changed", "1.0", {
      url: `file://${changedWhl}`,
      archive_info: { hashes: { sha256: sha("what was installed") } },
    });
    await w.installed("gonepkg", "2.0", {
      url: `file://${join(wheels, "gonepkg-2.0-py3-none-any.whl")}`,
      archive_info: {},
    });
    await w.installed("edpkg", "0.1", {
      url: `file://${encodeURI(proj)}`,
      dir_info: { editable: true },
    });
    await w.installed("vcspkg", "3.0", {
      url: "https://example.org/r.git",
      vcs_info: { vcs: "git", commit_id: "0123abc" },
    });
    // A stale wheel of a direct package from an earlier freeze is replaced, not kept.
    await Deno.writeTextFile(join(w.dir, "vendor", "edpkg-0.1-py2-none-any.whl"), "stale");

    let plan: DirectPlanEntry[] = [];
    let scriptReq: RunRequest | null = null;
    w.runner.on([PODMAN, "run"], (req) => {
      if (!req.cmd.includes("/opt/venvoy/freeze/freeze_direct.py")) {
        const vendor = mountSource(req, "/opt/venvoy/vendor");
        Deno.writeTextFileSync(join(vendor, "six-1.16.0-py2.py3-none-any.whl"), "six");
        return { code: 0 };
      }
      scriptReq = req;
      const work = mountSource(req, "/opt/venvoy/freeze");
      assert(Deno.readTextFileSync(join(work, "freeze_direct.py")).includes("def reconstruct"));
      plan = JSON.parse(Deno.readTextFileSync(join(work, "plan.json")));
      const results = plan.map((e) => {
        const wheel = `${e.name}-${e.version}-py3-none-any.whl`;
        Deno.writeTextFileSync(join(work, "out", wheel), `${e.name} built`);
        const how = e.src || e.url ? "built" : "reconstructed";
        return { name: e.name, version: e.version, wheel, how, why: e.gone ?? null };
      });
      Deno.writeTextFileSync(join(work, "result.json"), JSON.stringify(results));
      return { code: 0 };
    });
    const res = await freezeEnv(w.ctx, { name: "demo" });

    // The index is asked only for what came from it.
    assertEquals(await Deno.readTextFile(join(w.dir, "vendor", "pins.txt")), "six==1.16.0\n");
    assertEquals(plan, [
      {
        name: "changed",
        version: "1.0",
        dist_info: `${IN_SITE}/changed-1.0.dist-info`,
        editable: false,
        gone: `${changedWhl} changed since it was installed`,
      },
      {
        name: "edpkg",
        version: "0.1",
        dist_info: `${IN_SITE}/edpkg-0.1.dist-info`,
        editable: true,
        src: "/opt/venvoy/freeze-src/1",
      },
      {
        name: "gonepkg",
        version: "2.0",
        dist_info: `${IN_SITE}/gonepkg-2.0.dist-info`,
        editable: false,
        gone: `${join(wheels, "gonepkg-2.0-py3-none-any.whl")} is gone`,
      },
      {
        name: "vcspkg",
        version: "3.0",
        dist_info: `${IN_SITE}/vcspkg-3.0.dist-info`,
        editable: false,
        url: "git+https://example.org/r.git@0123abc",
      },
    ]);
    const argv = scriptReq!.cmd;
    assertEquals(argv.slice(-5), [
      "python3",
      "/opt/venvoy/freeze/freeze_direct.py",
      "/opt/venvoy/freeze/plan.json",
      "/opt/venvoy/freeze/out",
      "/opt/venvoy/freeze/result.json",
    ]);
    // The project is mounted read-only, at the path pip recorded (decoded: it has a space).
    assert(
      argv.includes(`type=bind,source=${proj},target=/opt/venvoy/freeze-src/1,readonly`),
      argv.join("\n"),
    );
    assertEquals(
      await Deno.readTextFile(join(w.dir, "vendor", "localpkg-1.0-py3-none-any.whl")),
      "local wheel bytes",
      "the recorded local wheel is copied as it is",
    );
    const vendor = [...Deno.readDirSync(join(w.dir, "vendor"))].map((e) => e.name).sort();
    assertEquals(vendor, [
      "changed-1.0-py3-none-any.whl",
      "edpkg-0.1-py3-none-any.whl",
      "gonepkg-2.0-py3-none-any.whl",
      "localpkg-1.0-py3-none-any.whl",
      "pins.txt",
      "six-1.16.0-py2.py3-none-any.whl",
      "vcspkg-3.0-py3-none-any.whl",
    ]);
    const lock = await Deno.readTextFile(res.lock);
    for (
      const pin of ["changed==1.0", "edpkg==0.1", "gonepkg==2.0", "localpkg==1.0", "six==1.16.0"]
    ) {
      assert(lock.includes(`${pin} \\\n    --hash=sha256:`), pin);
    }
    assert(lock.includes(`localpkg==1.0 \\\n    --hash=sha256:${sha("local wheel bytes")}`));
    assertEquals(
      res.direct.map((d) => `${d.name}:${d.how}`),
      [
        "localpkg:copied",
        "changed:reconstructed",
        "edpkg:built",
        "gonepkg:reconstructed",
        "vcspkg:built",
      ],
    );
    assertEquals(
      [...Deno.readDirSync(w.dir)].filter((e) => e.name.startsWith(".freeze-")),
      [],
      "the work folder is removed",
    );
  } finally {
    await Deno.remove(w.root, { recursive: true });
  }
});

Deno.test("freeze: an editable project whose folder is gone is refused by name, with what to do", async () => {
  const w = await world();
  try {
    const proj = join(w.root, "gone-proj");
    await w.installed("edpkg", "0.1", { url: `file://${proj}`, dir_info: { editable: true } });
    w.runner.on([PODMAN, "run"], (req) => {
      const work = mountSource(req, "/opt/venvoy/freeze");
      const plan: DirectPlanEntry[] = JSON.parse(Deno.readTextFileSync(join(work, "plan.json")));
      assertEquals(plan[0].src, undefined, "nothing to mount");
      Deno.writeTextFileSync(
        join(work, "result.json"),
        JSON.stringify([{
          name: "edpkg",
          version: "0.1",
          wheel: null,
          how: null,
          why: plan[0].gone,
        }]),
      );
      return { code: 0 };
    });
    await assert.rejects(freezeEnv(w.ctx, { name: "demo" }), (e) => {
      assert(e instanceof VenvoyError);
      assertEquals(
        e.message,
        `cannot freeze edpkg==0.1 (editable project ${proj}): ${proj} is gone`,
      );
      assert.match(e.hint ?? "", /restore its origin .* then run venvoy freeze again/);
      return true;
    });
    assert(
      !(await Deno.stat(join(w.dir, "requirements.lock")).catch(() => null)),
      "no lock written",
    );
  } finally {
    await Deno.remove(w.root, { recursive: true });
  }
});

const python = new DenoRunner().which("python3");
if (!python) console.error("skipping the freeze_direct.py tests: no python3 on PATH");

Deno.test({
  name:
    "freeze_direct.py rebuilds a wheel from RECORD; an editable project without its folder is refused",
  ignore: !python,
  fn: async () => {
    const root = await tempDir("venvoy-freeze-script-");
    try {
      const prefix = join(root, "venv");
      const site = join(prefix, "lib", "python3.11", "site-packages");
      const info = join(site, "gonepkg-2.0.dist-info");
      await Deno.mkdir(join(site, "gonepkg", "__pycache__"), { recursive: true });
      await Deno.mkdir(join(prefix, "bin"));
      await Deno.mkdir(info);
      const files: Record<string, string> = {
        "gonepkg/__init__.py": "VALUE = 'gone'\n",
        "gonepkg/__pycache__/__init__.cpython-311.pyc": "bytecode",
        "gonepkg-2.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: gonepkg\nVersion: 2.0\n",
        "gonepkg-2.0.dist-info/WHEEL":
          "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        "gonepkg-2.0.dist-info/INSTALLER": "pip\n",
        "gonepkg-2.0.dist-info/direct_url.json": "{}",
        "../../../bin/gone-tool": "#!/bin/sh\necho gone\n",
      };
      for (const [p, text] of Object.entries(files)) await Deno.writeTextFile(join(site, p), text);
      await Deno.writeTextFile(
        join(info, "RECORD"),
        Object.keys(files).map((p) => `${p},,\n`).join("") + "gonepkg-2.0.dist-info/RECORD,,\n",
      );
      const plan = [
        { name: "gonepkg", version: "2.0", dist_info: info, editable: false, gone: "x is gone" },
        { name: "edpkg", version: "0.1", dist_info: info, editable: true, gone: "/p is gone" },
      ];
      await Deno.writeTextFile(join(root, "plan.json"), JSON.stringify(plan));
      const script =
        new URL("../../../templates/support/freeze_direct.py", import.meta.url).pathname;
      const r = new DenoRunner();
      const out = join(root, "out");
      const res = await r.run({
        cmd: [python!, script, join(root, "plan.json"), out, join(root, "result.json")],
      });
      assertEquals(res.code, 0, res.stderr);
      const results = JSON.parse(await Deno.readTextFile(join(root, "result.json")));
      assertEquals(results, [
        {
          name: "gonepkg",
          version: "2.0",
          wheel: "gonepkg-2.0-py3-none-any.whl",
          how: "reconstructed",
          why: "x is gone",
        },
        { name: "edpkg", version: "0.1", wheel: null, how: null, why: "/p is gone" },
      ]);
      // The wheel: sources and scripts, no bytecode, no install-time files; RECORD hashes verify.
      const check = await r.run({
        cmd: [
          python!,
          "-c",
          `
import base64, csv, hashlib, io, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
names = sorted(z.namelist())
print("\\n".join(names))
for row in csv.reader(io.StringIO(z.read("gonepkg-2.0.dist-info/RECORD").decode())):
    if row[1]:
        h = base64.urlsafe_b64encode(hashlib.sha256(z.read(row[0])).digest()).rstrip(b"=").decode()
        assert row[1] == "sha256=" + h, row
`,
          join(out, "gonepkg-2.0-py3-none-any.whl"),
        ],
      });
      assertEquals(check.code, 0, check.stderr);
      assertEquals(check.stdout.trim().split("\n"), [
        "gonepkg-2.0.data/scripts/gone-tool",
        "gonepkg-2.0.dist-info/METADATA",
        "gonepkg-2.0.dist-info/RECORD",
        "gonepkg-2.0.dist-info/WHEEL",
        "gonepkg/__init__.py",
      ]);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test("tarball: an editable project is frozen again at every export (its code changes, not its version)", async () => {
  const { lockIsCurrent } = await import("../../../src/archive/tarball.ts");
  const { loadEnv } = await import("../../../src/env/store.ts");
  const { renderRequirementsLock } = await import("../../../src/snapshot/freeze.ts");
  const w = await world();
  try {
    await w.installed("edpkg", "0.1", { url: `file://${w.root}`, dir_info: { editable: false } });
    const wheel = join(w.dir, "vendor", "edpkg-0.1-py3-none-any.whl");
    await Deno.writeTextFile(wheel, "built");
    await Deno.writeTextFile(
      join(w.dir, "requirements.lock"),
      renderRequirementsLock([{ name: "edpkg", version: "0.1", hashes: [sha("built")] }]),
    );
    const env = await loadEnv(w.ctx.paths, "demo");
    assert(await lockIsCurrent(env), "a plain local project installed once: the lock is current");
    await Deno.writeTextFile(
      join(w.site, "edpkg-0.1.dist-info", "direct_url.json"),
      JSON.stringify({ url: `file://${w.root}`, dir_info: { editable: true } }),
    );
    assert(!(await lockIsCurrent(env)), "editable: freeze again");
  } finally {
    await Deno.remove(w.root, { recursive: true });
  }
});
