/**
 * Environments end to end, with the bundled dist/venvoy run from a temporary folder:
 * the same suite on podman, the docker CLI (on the podman socket) and apptainer, plus R.
 * An engine that is absent is skipped with the reason printed.
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";

const VENVOY = new URL("../../dist/venvoy", import.meta.url).pathname;
const PY_BASE = "localhost/venvoy-lab/python:3.11";
const R_BASE = "localhost/venvoy-lab/r:4.2";

function has(cmd: string[]): boolean {
  try {
    return new Deno.Command(cmd[0], { args: cmd.slice(1), stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

const podman = has(["podman", "image", "exists", PY_BASE]);
const docker = podman && has(["docker", "image", "inspect", PY_BASE]);
const apptainer = podman && has(["apptainer", "--version"]);
const rImage = podman && has(["podman", "image", "exists", R_BASE]);

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

class Sandbox {
  readonly root = Deno.makeTempDirSync({ prefix: "venvoy-it-env-" });
  readonly work = join(this.root, "work");
  readonly env = {
    VENVOY_HOME: join(this.root, "state"),
    VENVOY_PROJECTS: join(this.root, "projects"),
    NO_COLOR: "1",
  };
  constructor() {
    Deno.mkdirSync(this.work);
  }
  async venvoy(args: string[], opts: { stdin?: string } = {}): Promise<Result> {
    const child = new Deno.Command(VENVOY, {
      args,
      cwd: this.work,
      env: this.env,
      stdin: opts.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (opts.stdin !== undefined) {
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode(opts.stdin));
      await w.close();
    }
    const out = await child.output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  }
  async ok(args: string[]): Promise<Result> {
    const r = await this.venvoy(args);
    assert.equal(r.code, 0, `venvoy ${args.join(" ")} failed:\n${r.stderr}`);
    return r;
  }
  async cleanup(names: string[]) {
    for (const n of names) await this.venvoy(["delete", n, "--force", "--purge"]);
    await Deno.remove(this.root, { recursive: true }).catch(() => {});
  }
}

/** A tiny local package, so installing in a session needs no network. */
function writeLocalPackage(dir: string) {
  Deno.mkdirSync(join(dir, "itpkg", "venvoy_it_pkg"), { recursive: true });
  Deno.writeTextFileSync(
    join(dir, "itpkg", "setup.py"),
    "from setuptools import setup\nsetup(name='venvoy-it-pkg', version='1.0', packages=['venvoy_it_pkg'])\n",
  );
  Deno.writeTextFileSync(join(dir, "itpkg", "venvoy_it_pkg", "__init__.py"), "ANSWER = 42\n");
}

function suite(engine: "podman" | "docker" | "apptainer", available: boolean, why: string) {
  if (!available) console.error(`skipping env tests on ${engine}: ${why}`);
  Deno.test({
    name: `env on ${engine}: init, exit codes, owners, a && b, persistence across sessions`,
    ignore: !available,
    sanitizeResources: false,
    fn: async (t) => {
      const sb = new Sandbox();
      const name = `it-env-${engine}`;
      try {
        await t.step("init on the local base image pins it by ID", async () => {
          const r = await sb.ok([
            "--engine",
            engine,
            "init",
            "--name",
            name,
            "--base-image",
            PY_BASE,
          ]);
          const cfg = await Deno.readTextFile(
            join(sb.env.VENVOY_HOME, "environments", name, "config.yaml"),
          );
          assert.match(cfg, /base_image_pinned: sha256:[0-9a-f]{64}/);
          assert.match(cfg, new RegExp(`engine: ${engine}`));
          assert.match(r.stdout, new RegExp(`environments/${name}`));
          const base = JSON.parse(
            await Deno.readTextFile(
              join(sb.env.VENVOY_HOME, "environments", name, "base-packages.json"),
            ),
          );
          assert.ok(
            base.python.some((p: { name: string }) => p.name === "uv"),
            "uv is in the image",
          );
          if (engine === "apptainer") {
            assert.ok(
              Deno.statSync(join(sb.env.VENVOY_HOME, "environments", name, "image.sif")).isFile,
            );
          }
        });
        await t.step("init again without --force: the exact error", async () => {
          const r = await sb.venvoy([
            "--engine",
            engine,
            "init",
            "--name",
            name,
            "--base-image",
            PY_BASE,
          ]);
          assertEquals(r.code, 1);
          assert.match(
            r.stderr,
            new RegExp(
              `Environment '${name}' already exists at .*; use --force to rebuild it, or --name for another`,
            ),
          );
        });
        await t.step("exit code 7 propagates", async () => {
          const r = await sb.venvoy(["run", name, "--command", "exit 7"]);
          assertEquals(r.code, 7);
        });
        await t.step("a && b runs through sh -c, in /workspace", async () => {
          const r = await sb.ok(["run", name, "--command", "echo first && pwd"]);
          assertEquals(r.stdout.trim().split("\n"), ["first", "/workspace"]);
        });
        await t.step("a file written to /workspace belongs to the host user", async () => {
          await sb.ok(["run", name, "--command", "echo hi > owned.txt"]);
          const st = Deno.statSync(join(sb.work, "owned.txt"));
          assertEquals(st.uid, Deno.uid());
        });
        await t.step("a package installed in one session imports in the next", async () => {
          writeLocalPackage(sb.work);
          await sb.ok([
            "run",
            name,
            "--command",
            "pip install -q --no-index --no-build-isolation ./itpkg",
          ]);
          const r = await sb.ok([
            "run",
            name,
            "--command",
            "python -c 'import venvoy_it_pkg as p; print(p.ANSWER, p.__file__)'",
          ]);
          assert.match(
            r.stdout,
            /^42 \/opt\/venvoy\/persist\/python\/lib\/python3\.11\/site-packages\//,
          );
          const site = join(
            sb.env.VENVOY_HOME,
            "environments",
            name,
            "persist",
            "python",
            "lib",
            "python3.11",
            "site-packages",
          );
          assert.ok(
            [...Deno.readDirSync(site)].some((e) =>
              e.name.startsWith("venvoy_it_pkg-1.0.dist-info")
            ),
          );
        });
        await t.step("host ~/.local is not on sys.path (PYTHONNOUSERSITE)", async () => {
          const r = await sb.ok([
            "run",
            name,
            "--command",
            "python -c 'import sys; print(sys.flags.no_user_site)'",
          ]);
          assertEquals(r.stdout.trim(), "1");
        });
        await t.step("a missing mount source is an error that changes nothing", async () => {
          const r = await sb.venvoy([
            "run",
            name,
            "--mount",
            "/no/such/dir:/data",
            "--command",
            "true",
          ]);
          assertEquals(r.code, 2);
          assert.match(r.stderr, /mount source '\/no\/such\/dir' does not exist/);
        });
        if (engine === "podman") {
          await t.step("a second init --force hits the build cache", async () => {
            const r = await sb.ok(["init", "--name", name, "--force"]);
            assert.match(r.stderr, /Unchanged \(build cache\)/);
          });
        }
      } finally {
        await sb.cleanup([name]);
      }
    },
  });
}

suite("podman", podman, `podman or ${PY_BASE} is missing (run tests/lab/setup.sh)`);
suite("docker", docker, "the docker CLI cannot reach the lab images");
suite("apptainer", apptainer, "apptainer (and podman to build the OCI image) is missing");

if (!rImage) {
  console.error(
    `skipping the R environment test: ${R_BASE} is missing (VENVOY_LAB_R=1 tests/lab/setup.sh)`,
  );
}
Deno.test({
  name: "env on podman: an R environment on the lab R image runs Rscript",
  ignore: !rImage,
  sanitizeResources: false,
  fn: async () => {
    const sb = new Sandbox();
    try {
      const bad = await sb.venvoy([
        "init",
        "--runtime",
        "r",
        "--r-version",
        "4.9",
        "--name",
        "it-env-r",
      ]);
      assertEquals(bad.code, 2);
      assert.match(bad.stderr, /supported R versions: 4\.2, 4\.3, 4\.4, 4\.5/);
      await sb.ok([
        "--engine",
        "podman",
        "init",
        "--runtime",
        "r",
        "--r-version",
        "4.2",
        "--name",
        "it-env-r",
        "--base-image",
        R_BASE,
      ]);
      const r = await sb.ok([
        "run",
        "it-env-r",
        "--command",
        "Rscript -e 'cat(R.version$major, R.version$minor, .libPaths()[1], \"\\n\")'",
      ]);
      assertEquals(r.stdout.trim(), "4 2.2 /opt/venvoy/persist/R/library");
    } finally {
      await sb.cleanup(["it-env-r"]);
    }
  },
});

Deno.test({
  name: "env on podman: R without --r-version takes the base image's R (4.2, not the default)",
  ignore: !rImage,
  sanitizeResources: false,
  fn: async () => {
    const sb = new Sandbox();
    const name = "it-env-r-from-image";
    try {
      const init = ["--engine", "podman", "init", "--runtime", "r", "--name", name];
      await sb.ok([...init, "--base-image", R_BASE]);
      const config = join(sb.env.VENVOY_HOME, "environments", name, "config.yaml");
      assert.match(await Deno.readTextFile(config), /^r_version: "?4\.2"?$/m);
      // A rebuild keeps the recorded base, and so its R.
      await sb.ok([...init, "--force"]);
      assert.match(await Deno.readTextFile(config), /^r_version: "?4\.2"?$/m);
      // A version given is still checked against the image.
      const bad = await sb.venvoy([...init, "--force", "--r-version", "4.4"]);
      assertEquals(bad.code, 1, bad.stderr);
      assert.match(bad.stderr, /has R 4\.2\.\d+, not 4\.4/);
    } finally {
      await sb.cleanup([name]);
    }
  },
});
