/**
 * Snapshots end to end through the bundled product (dist/venvoy, run from a temporary
 * folder), on podman, the docker CLI (on the podman socket) and apptainer:
 * install in a `run` session -> environment.yml and history; remove -> the diff; restore
 * the earlier snapshot -> the package set matches exactly; freeze, then
 * `init --force --offline` with networking disabled -> the same package set, from vendor/.
 * On podman also: export --format dockerfile / tarball, a plain `podman build --network none`
 * of the extracted tarball, and `venvoy import` of it into a fresh VENVOY_HOME.
 * R: an image's r-cran-* package and a session-installed package appear in renv.lock.
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { parseEnvironmentYml } from "../../src/snapshot/environment_yml.ts";
import { parseRenvLock } from "../../src/snapshot/renv_lock.ts";
import { readPackageState } from "../../src/snapshot/state.ts";
import { type CliResult, venvoy } from "./cli.ts";
import { ignoreUnless, LAB_PYTHON, LAB_R, runner } from "./lab.ts";

type Engine = "podman" | "docker" | "apptainer";

class Box {
  readonly root = Deno.makeTempDirSync({ prefix: "venvoy-it-snap-" });
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
  projectDir(name: string): string {
    return join(this.env.VENVOY_PROJECTS, name);
  }
  async cleanup(names: string[], images: string[] = []) {
    for (const n of names) await this.run(["delete", n, "--force", "--purge"]);
    for (const i of images) await runner.run({ cmd: ["podman", "rmi", "-f", i] });
    await Deno.remove(this.root, { recursive: true }).catch(() => {});
  }
}

const pins = (pkgs: { name: string; version: string }[]) =>
  pkgs.map((p) => `${p.name}==${p.version}`).sort();

async function latestYml(box: Box, name: string) {
  const path = join(box.projectDir(name), "environment.yml");
  return parseEnvironmentYml(await Deno.readTextFile(path), path);
}

async function historyJson(box: Box, name: string) {
  const r = await box.ok(["history", "--name", name, "--json"]);
  return JSON.parse(r.stdout) as {
    snapshots: {
      timestamp: string;
      changes: { python: { added: unknown[]; removed: unknown[] } } | null;
    }[];
  };
}

function suite(engine: Engine) {
  Deno.test({
    name: `snapshots on ${engine}: install, remove, restore exactly, freeze, offline rebuild`,
    ignore: ignoreUnless(engine),
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async (t) => {
      const box = new Box();
      const name = `it-snap-${engine}`;
      try {
        let withSix = "";
        await t.step("init records the first snapshot", async () => {
          await box.ok(["--engine", engine, "init", "--name", name, "--base-image", LAB_PYTHON]);
          const h = await historyJson(box, name);
          assertEquals(h.snapshots.length, 1);
        });

        await t.step(
          "a package installed in a session is in environment.yml and history",
          async () => {
            await box.ok(["run", name, "--command", "pip install -q --no-deps six==1.16.0"]);
            const yml = await latestYml(box, name);
            assert(pins(yml.state.python).includes("six==1.16.0"), pins(yml.state.python).join());
            const text = await Deno.readTextFile(join(box.projectDir(name), "environment.yml"));
            assert.match(text, /^ {6}- six==1\.16\.0$/m);
            const h = await historyJson(box, name);
            assertEquals(h.snapshots[0].changes?.python.added, [{
              name: "six",
              version: "1.16.0",
            }]);
            withSix = h.snapshots[0].timestamp;
            const list = await box.ok(["history", "--name", name]);
            assert(list.stdout.includes(`* ${withSix}`) && list.stdout.includes("+six 1.16.0"));
          },
        );

        await t.step("removing it shows in the diff", async () => {
          await box.ok(["run", name, "--command", "pip uninstall -q -y six"]);
          const d = await box.ok(["history", "--name", name, "--diff", withSix, "latest"]);
          assert.match(d.stdout, /^ {2}- six 1\.16\.0$/m);
          assert(!pins((await latestYml(box, name)).state.python).includes("six==1.16.0"));
        });

        await t.step(
          "restore brings the earlier snapshot back exactly, and can be undone",
          async () => {
            const before = (await historyJson(box, name)).snapshots[0].timestamp;
            const r = await box.ok(["restore", "--name", name, "--snapshot", withSix]);
            assert.match(r.stdout, /match it exactly/);
            assert(r.stdout.includes(`--snapshot ${before}`), "the undo snapshot is named");
            const target = parseEnvironmentYml(
              await Deno.readTextFile(join(box.projectDir(name), `environment_${withSix}.yml`)),
              "target",
            );
            const now = await readPackageState(box.envDir(name));
            assertEquals(pins(now.state.python), pins(target.state.python));
            assertEquals(
              pins((await latestYml(box, name)).state.python),
              pins(target.state.python),
            );
          },
        );

        await t.step("restore without --snapshot and no terminal is a usage error", async () => {
          const r = await box.run(["restore", "--name", name]);
          assertEquals(r.code, 2);
          assert.match(r.stderr, /restore needs --snapshot/);
          const bad = await box.run(["restore", "--name", name, "--snapshot", "20000101_000000"]);
          assertEquals(bad.code, 2);
          assert(bad.stderr.includes(withSix), bad.stderr);
        });

        await t.step("freeze, then init --force --offline with networking disabled", async () => {
          const f = await box.ok(["freeze", "--name", name]);
          const lockPath = f.stdout.trim();
          assertEquals(lockPath, join(box.envDir(name), "requirements.lock"));
          const lock = await Deno.readTextFile(lockPath);
          assert.match(lock, /^six==1\.16\.0 \\\n {4}--hash=sha256:[0-9a-f]{64}$/m);
          assert.match(lock, /^uv==/m);
          const before = await readPackageState(box.envDir(name));
          const r = await box.ok(["init", "--name", name, "--force", "--offline"]);
          assert.match(r.stderr, /from vendor\/, networking disabled/);
          const after = await readPackageState(box.envDir(name));
          assertEquals(pins(after.state.python), pins(before.state.python));
          // The image itself now has six, installed from vendor/ with its hash.
          const base = JSON.parse(
            await Deno.readTextFile(join(box.envDir(name), "base-packages.json")),
          );
          assert(pins(base.python).includes("six==1.16.0"), pins(base.python).join());
          const run = await box.ok([
            "run",
            name,
            "--command",
            "python3 -c 'import six; print(six.__version__)'",
          ]);
          assertEquals(run.stdout.trim(), "1.16.0");
        });

        if (engine === "podman") {
          await t.step(
            "export dockerfile and tarball; the tarball builds with --network none",
            async () => {
              const out = await Deno.makeTempDir({ dir: box.root, prefix: "out-" });
              await box.ok(
                ["export", "--name", name, "--format", "dockerfile", "-o", "Dockerfile"],
                out,
              );
              const df = await Deno.readTextFile(join(out, "Dockerfile"));
              assert.match(df, /^ARG BASE=[0-9a-f]{64}$/m);
              assert.match(df, /"six==1\.16\.0"/);
              await box.ok(
                ["export", "--name", name, "--format", "tarball", "-o", "t.tar.gz"],
                out,
              );
              const x = join(out, "x");
              await Deno.mkdir(x);
              const tar = await runner.run({ cmd: ["tar", "xzf", join(out, "t.tar.gz"), "-C", x] });
              assertEquals(tar.code, 0, tar.stderr);
              const manifest = JSON.parse(await Deno.readTextFile(join(x, "manifest.json")));
              assertEquals(manifest.format, "venvoy-tarball");
              assert(
                Object.keys(manifest.members).some((m) => /^vendor\/six-1\.16\.0-.*\.whl$/.test(m)),
              );
              const tag = "localhost/venvoy-test-snap-tarball:latest";
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
                  "import six; print(six.__version__)",
                ],
              });
              await runner.run({ cmd: ["podman", "rmi", "-f", tag] });
              assertEquals(py.stdout.trim(), "1.16.0", py.stderr);

              // Another machine: a fresh VENVOY_HOME imports the tarball and rebuilds it offline.
              const other = new Box();
              try {
                await other.ok([
                  "--engine",
                  "podman",
                  "import",
                  join(out, "t.tar.gz"),
                  "--name",
                  `${name}-imp`,
                ]);
                const script =
                  "python3 -c 'import six, importlib.metadata as m; print(six.__version__, m.version(\"uv\"))'";
                const a = await box.ok(["run", name, "--command", script]);
                const b = await other.ok(["run", `${name}-imp`, "--command", script]);
                assertEquals(b.stdout, a.stdout);
              } finally {
                await other.cleanup([`${name}-imp`]);
              }
            },
          );
        }
      } finally {
        await box.cleanup([name]);
      }
    },
  });
}

suite("podman");
suite("docker");
suite("apptainer");

Deno.test({
  name: "snapshots of R: an image's r-cran package and a session install appear in renv.lock",
  ignore: ignoreUnless("podman") ||
    !(await runner.run({ cmd: ["podman", "image", "exists", LAB_R] })
      .then((r) => r.code === 0)),
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const box = new Box();
    const name = "it-snap-r";
    try {
      await box.ok([
        "--engine",
        "podman",
        "init",
        "--name",
        name,
        "--runtime",
        "r",
        "--r-version",
        "4.2",
        "--base-image",
        LAB_R,
      ]);
      const lockPath = join(box.projectDir(name), "renv.lock");
      let lock = parseRenvLock(await Deno.readTextFile(lockPath), lockPath);
      const jsonlite = lock.packages.find((p) => p.name === "jsonlite");
      assert(jsonlite, "the image's r-cran-jsonlite is in renv.lock");
      assertEquals(lock.rVersion?.startsWith("4.2"), true);
      // CRAN is not reachable here: install a tiny local source package in a session.
      const work = await Deno.makeTempDir({ dir: box.root, prefix: "work-" });
      await Deno.mkdir(join(work, "itpkg", "R"), { recursive: true });
      await Deno.writeTextFile(
        join(work, "itpkg", "DESCRIPTION"),
        "Package: itpkg\nVersion: 0.1.2\nTitle: t\nDescription: t.\nLicense: MIT\n" +
          "Authors@R: person('a', 'b', role = c('aut', 'cre'), email = 'a@b.c')\n",
      );
      await Deno.writeTextFile(join(work, "itpkg", "NAMESPACE"), "export(answer)\n");
      await Deno.writeTextFile(join(work, "itpkg", "R", "a.R"), "answer <- function() 42\n");
      await box.ok(["run", name, "--command", 'R CMD INSTALL -l "$R_LIBS_USER" itpkg'], work);
      lock = parseRenvLock(await Deno.readTextFile(lockPath), lockPath);
      assertEquals(lock.packages.find((p) => p.name === "itpkg")?.version, "0.1.2");
      const h = await box.ok(["history", "--name", name]);
      assert.match(h.stdout, /\+R:itpkg 0\.1\.2/);
    } finally {
      await box.cleanup([name]);
    }
  },
});
