/**
 * Freeze of packages from anywhere (issue 11), through the bundled product on podman:
 * a local wheel, a local wheel deleted after its install, and an editable project, all
 * installed in sessions. `venvoy freeze` vendors a wheel for each (copied, rebuilt from
 * the installed files, built from the project), the tarball export builds with
 * `podman build --network none` and imports them; with the editable project's folder gone,
 * freeze refuses and names it.
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { type CliResult, venvoy } from "./cli.ts";
import { ignoreUnless, LAB_PYTHON, runner } from "./lab.ts";

/** Writes a minimal pure-Python wheel by hand (zipfile), run inside a session. */
const MAKE_WHEEL = `
import base64, hashlib, sys, zipfile
name, version, value, out = sys.argv[1:5]
files = {
    f"{name}/__init__.py": f"VALUE = {value!r}\\n".encode(),
    f"{name}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n".encode(),
    f"{name}-{version}.dist-info/WHEEL": b"Wheel-Version: 1.0\\nGenerator: venvoy-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
record = ""
for path, data in files.items():
    h = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    record += f"{path},sha256={h},{len(data)}\\n"
record += f"{name}-{version}.dist-info/RECORD,,\\n"
files[f"{name}-{version}.dist-info/RECORD"] = record.encode()
with zipfile.ZipFile(f"{out}/{name}-{version}-py3-none-any.whl", "w") as z:
    for path, data in files.items():
        z.writestr(path, data)
`;

class Box {
  readonly root = Deno.makeTempDirSync({ prefix: "venvoy-it-freeze-" });
  readonly env = {
    HOME: this.root,
    VENVOY_HOME: join(this.root, "state"),
    VENVOY_PROJECTS: join(this.root, "projects"),
  };
  async run(args: string[], cwd?: string): Promise<CliResult> {
    return await venvoy(args, { env: this.env, cwd });
  }
  async ok(args: string[], cwd?: string): Promise<CliResult> {
    const r = await this.run(args, cwd);
    assertEquals(r.code, 0, `venvoy ${args.join(" ")} failed (${r.code}):\n${r.stderr}`);
    return r;
  }
  envDir(name: string): string {
    return join(this.env.VENVOY_HOME, "environments", name);
  }
}

Deno.test({
  name: "freeze from anywhere on podman: local wheel, deleted wheel, editable project; " +
    "the tarball builds with --network none",
  ignore: ignoreUnless("podman"),
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    const box = new Box();
    const name = `it-freeze-any-${crypto.randomUUID().slice(0, 6)}`;
    const tag = `localhost/venvoy-test-${name}:latest`;
    // In the home folder: sessions mount it at its own path, so pip records host paths.
    const wheels = join(box.root, "wheels");
    const proj = join(box.root, "proj");
    try {
      await t.step("init, and three packages from outside the index", async () => {
        await box.ok(["--engine", "podman", "init", "--name", name, "--base-image", LAB_PYTHON]);
        await Deno.mkdir(wheels);
        await Deno.writeTextFile(join(box.root, "make_wheel.py"), MAKE_WHEEL);
        await Deno.mkdir(join(proj, "edpkg"), { recursive: true });
        await Deno.writeTextFile(
          join(proj, "pyproject.toml"),
          '[build-system]\nrequires = ["setuptools>=64"]\nbuild-backend = "setuptools.build_meta"\n\n' +
            '[project]\nname = "edpkg"\nversion = "0.1"\n\n[tool.setuptools]\npackages = ["edpkg"]\n',
        );
        await Deno.writeTextFile(join(proj, "edpkg", "__init__.py"), 'VALUE = "editable"\n');
        const mk = `python3 ${box.root}/make_wheel.py`;
        await box.ok([
          "run",
          name,
          "--command",
          [
            `${mk} localpkg 1.0 local ${wheels}`,
            `${mk} gonepkg 2.0 gone ${wheels}`,
            `pip install -q --no-deps ${wheels}/localpkg-1.0-py3-none-any.whl ${wheels}/gonepkg-2.0-py3-none-any.whl`,
            // The image's setuptools builds it: no index needed for the install itself.
            `pip install -q --no-deps --no-build-isolation -e ${proj}`,
          ].join(" && "),
        ]);
        await Deno.remove(join(wheels, "gonepkg-2.0-py3-none-any.whl"));
        const r = await box.ok([
          "run",
          name,
          "--command",
          "python3 -c 'import localpkg, gonepkg, edpkg; print(localpkg.VALUE, gonepkg.VALUE, edpkg.VALUE)'",
        ]);
        assertEquals(r.stdout.trim(), "local gone editable");
      });

      await t.step("freeze succeeds and says where each wheel came from", async () => {
        const f = await box.ok(["freeze", "--name", name]);
        const lock = await Deno.readTextFile(f.stdout.trim());
        for (const pin of ["localpkg==1.0", "gonepkg==2.0", "edpkg==0.1"]) {
          assert.match(
            lock,
            new RegExp(`^${pin.replace(".", "\\.")} \\\\\n {4}--hash=sha256:`, "m"),
          );
        }
        assert.match(f.stderr, /localpkg==1\.0 is not from the index: copied from .*localpkg-1\.0/);
        assert.match(
          f.stderr,
          /gonepkg==2\.0 is not from the index: rebuilt from its installed files/,
        );
        assert.match(f.stderr, /edpkg==0\.1 is not from the index: built from .*proj/);
        const vendor = [...Deno.readDirSync(join(box.envDir(name), "vendor"))].map((e) => e.name);
        for (const w of ["localpkg-1.0-", "gonepkg-2.0-", "edpkg-0.1-"]) {
          assert(vendor.some((v) => v.startsWith(w) && v.endsWith(".whl")), vendor.join(" "));
        }
        assert(!vendor.some((v) => v.startsWith(".")), "no temporary files left in vendor/");
      });

      await t.step(
        "the tarball export builds with --network none and imports all three",
        async () => {
          const out = await Deno.makeTempDir({ dir: box.root, prefix: "out-" });
          await box.ok(["export", "--name", name, "--format", "tarball", "-o", "t.tar.gz"], out);
          const x = join(out, "x");
          await Deno.mkdir(x);
          const tar = await runner.run({ cmd: ["tar", "xzf", join(out, "t.tar.gz"), "-C", x] });
          assertEquals(tar.code, 0, tar.stderr);
          const build = await runner.run({
            cmd: ["podman", "build", "-q", "--network", "none", "-t", tag, x],
          });
          assertEquals(build.code, 0, build.stderr);
          const py = await runner.run({
            cmd: [
              "podman",
              "run",
              "--rm",
              "--network",
              "none",
              tag,
              "python3",
              "-c",
              "import localpkg, gonepkg, edpkg; print(localpkg.VALUE, gonepkg.VALUE, edpkg.VALUE)",
            ],
          });
          assertEquals(py.stdout.trim(), "local gone editable", py.stderr);
        },
      );

      await t.step("an editable project whose folder is gone is refused by name", async () => {
        await Deno.remove(proj, { recursive: true });
        const r = await box.run(["freeze", "--name", name]);
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /cannot freeze edpkg==0\.1 \(editable project .*proj\): .*is gone/);
        assert.match(r.stderr, /hint: restore its origin/);
      });
    } finally {
      await box.run(["delete", name, "--force", "--purge"]);
      await runner.run({ cmd: ["podman", "rmi", "-f", tag] });
      await Deno.remove(box.root, { recursive: true }).catch(() => {});
    }
  },
});
