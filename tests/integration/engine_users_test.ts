/**
 * The engines as users have them, each run as its own user through the bundled product
 * (dist/venvoy): rootless podman (the lab's rootless user), a real Docker Engine as root
 * and as a member of group docker (tests/lab/setup.sh). One environment per configuration,
 * reused across the steps: runtime-info names the configuration, `init` on the lab's Python
 * image, `run --command` passes the exit code through, a file written in /workspace belongs
 * to the host user, a `pip install` of a local wheel persists with its snapshot in history,
 * and an archive exported on one configuration imports and runs on another.
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import {
  LAB_DOCKER_SOCK,
  LAB_DOCKER_USER,
  LAB_PYTHON,
  LAB_ROOTLESS_USER,
  type LabUser,
  labUser,
  runAs,
  runner,
} from "./lab.ts";

const WHEEL = "tinyvenvoy-0.1-py3-none-any.whl";
const IMPORT_PROBE = "python -c 'import tinyvenvoy; print(tinyvenvoy.VALUE)'";

interface Config {
  label: string;
  /** The environment's name: one per configuration (two share the Docker Engine's store). */
  name: string;
  engine: "podman" | "docker";
  configuration: string;
  /** null: root. */
  user: LabUser | null;
  env: Record<string, string>;
  skip: string | null;
}

async function answers(cmd: string[], user: LabUser | null, env: Record<string, string>) {
  const r = await runAs(user, cmd, { env, cwd: "/" });
  return r.code === 0 ? null : (r.stderr.trim().split("\n").pop() ?? `exit ${r.code}`);
}

async function configs(): Promise<Config[]> {
  const isRoot = Deno.uid() === 0;
  const rootless = isRoot ? await labUser(LAB_ROOTLESS_USER) : null;
  const dockerUser = isRoot ? await labUser(LAB_DOCKER_USER) : null;
  const dockerEnv = { DOCKER_HOST: `unix://${LAB_DOCKER_SOCK}` };
  // Its own HOME: podman's storage.conf and image store are in it.
  const rootlessEnv: Record<string, string> = rootless
    ? { HOME: rootless.home, XDG_RUNTIME_DIR: `/run/user/${rootless.uid}` }
    : {};
  const list: Config[] = [
    {
      label: "rootless podman",
      name: "it-eng-rootless",
      engine: "podman",
      configuration: "podman (rootless)",
      user: rootless,
      env: rootlessEnv,
      skip: !isRoot
        ? "not root (the test switches users with runuser)"
        : !rootless
        ? `no rootless user ${LAB_ROOTLESS_USER} (run tests/lab/setup.sh as root)`
        : null,
    },
    {
      label: "Docker Engine as root",
      name: "it-eng-docker-root",
      engine: "docker",
      configuration: "Docker Engine",
      user: null,
      env: dockerEnv,
      skip: null,
    },
    {
      label: "Docker Engine as a docker-group user",
      name: "it-eng-docker-group",
      engine: "docker",
      configuration: "Docker Engine",
      user: dockerUser,
      env: dockerEnv,
      skip: !isRoot
        ? "not root (the test switches users with runuser)"
        : !dockerUser
        ? `no docker-group user ${LAB_DOCKER_USER} (run tests/lab/setup.sh as root)`
        : null,
    },
  ];
  for (const c of list) {
    if (c.skip) continue;
    const image = c.engine === "docker"
      ? ["docker", "image", "inspect", LAB_PYTHON]
      : ["podman", "image", "exists", LAB_PYTHON];
    if (c.engine === "docker" && !runner.which("docker")) c.skip = "no docker CLI on PATH";
    const why = c.skip ??
      await answers(image, c.user, { PATH: "/usr/local/bin:/usr/bin:/bin", ...c.env });
    if (why) c.skip = `${LAB_PYTHON} is not in its store: ${why} (run tests/lab/setup.sh)`;
  }
  return list;
}

const CONFIGS = await configs();
for (const c of CONFIGS) if (c.skip) console.error(`SKIP ${c.label}: ${c.skip}`);

/** A root folder every configuration's user can reach; its own folders inside. */
const ROOT = await Deno.makeTempDir({ prefix: "venvoy-it-engines-" });
await Deno.chmod(ROOT, 0o755);
globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(ROOT, { recursive: true });
  } catch { /* best effort */ }
});

let program: string | null = null;
/** dist/venvoy, copied where every user can read it. */
async function venvoyProgram(): Promise<string> {
  if (program) return program;
  const source = new URL("../../dist/venvoy", import.meta.url).pathname;
  const dir = join(ROOT, "prog");
  await Deno.mkdir(dir, { mode: 0o755 });
  program = join(dir, "venvoy");
  await Deno.copyFile(source, program);
  await Deno.chmod(program, 0o755);
  return program;
}

/** A wheel of a tiny pure-Python package, written with the host's python3 (PyPI is not needed). */
async function makeWheel(dir: string): Promise<string> {
  const py = `
import base64, hashlib, sys, zipfile
files = {
  "tinyvenvoy/__init__.py": "VALUE = 'venvoy-engines'\\n",
  "tinyvenvoy-0.1.dist-info/METADATA": "Metadata-Version: 2.1\\nName: tinyvenvoy\\nVersion: 0.1\\n",
  "tinyvenvoy-0.1.dist-info/WHEEL":
    "Wheel-Version: 1.0\\nGenerator: venvoy-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
def digest(b):
  return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(b).digest()).rstrip(b"=").decode()
record = "".join(f"{p},{digest(t.encode())},{len(t.encode())}\\n" for p, t in files.items())
record += "tinyvenvoy-0.1.dist-info/RECORD,,\\n"
with zipfile.ZipFile(sys.argv[1], "w") as z:
  for p, t in files.items():
    z.writestr(p, t)
  z.writestr("tinyvenvoy-0.1.dist-info/RECORD", record)
`;
  const path = join(dir, WHEEL);
  const res = await runner.run({ cmd: ["python3", "-c", py, path] });
  assertEquals(res.code, 0, res.stderr);
  return path;
}

interface Box {
  config: Config;
  uid: number;
  gid: number;
  /** The project folder: the session's /workspace, owned by the user. */
  cwd: string;
  env: Record<string, string>;
  venvoy(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  ok(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Copies a file into the project folder and gives it to the user. */
  give(file: string): Promise<string>;
}

async function box(config: Config): Promise<Box> {
  const uid = config.user?.uid ?? 0;
  const gid = config.user?.gid ?? 0;
  const home = join(ROOT, config.label.replaceAll(" ", "-"));
  await Deno.mkdir(join(home, "work"), { recursive: true });
  for (const d of [home, join(home, "work")]) await Deno.chown(d, uid, gid);
  const env: Record<string, string> = {
    HOME: home,
    USER: config.user?.name ?? "root",
    LOGNAME: config.user?.name ?? "root",
    PATH: "/usr/local/bin:/usr/bin:/bin",
    LANG: "C.UTF-8",
    NO_COLOR: "1",
    DENO_NO_UPDATE_CHECK: "1",
    VENVOY_HOME: join(home, "state"),
    VENVOY_PROJECTS: join(home, "projects"),
    XDG_CACHE_HOME: join(home, "cache"),
    ...(Deno.env.get("SSL_CERT_FILE") ? { SSL_CERT_FILE: Deno.env.get("SSL_CERT_FILE")! } : {}),
    ...config.env,
  };
  const bin = await venvoyProgram();
  const cwd = join(home, "work");
  const venvoy = (args: string[]) =>
    runAs(config.user, [
      Deno.execPath(),
      "run",
      "--allow-all",
      "--no-config",
      "--no-lock",
      "--quiet",
      "--ext=js",
      bin,
      ...args,
    ], { env, cwd });
  return {
    config,
    uid,
    gid,
    cwd,
    env,
    venvoy,
    ok: async (args) => {
      const r = await venvoy(args);
      assertEquals(
        r.code,
        0,
        `${config.label}: venvoy ${args.join(" ")} (${r.code}):\n${r.stderr}`,
      );
      return r;
    },
    give: async (file) => {
      const to = join(cwd, file.split("/").pop()!);
      await Deno.copyFile(file, to);
      await Deno.chown(to, uid, gid);
      return to;
    },
  };
}

/** The archive each configuration exported, for the others to import. */
const archives = new Map<string, string>();
const boxes: Box[] = [];

for (const config of CONFIGS) {
  Deno.test({
    name: `engines as users have them: ${config.label}`,
    ignore: config.skip !== null,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async (t) => {
      const b = await box(config);
      boxes.push(b);
      const envName = config.name;
      try {
        await t.step("runtime-info names the configuration", async () => {
          const r = await b.ok(["--engine", config.engine, "runtime-info", "--json"]);
          const j = JSON.parse(r.stdout);
          assertEquals([j.runtime, j.configuration], [config.engine, config.configuration]);
        });

        await t.step("init on the lab's Python image", async () => {
          const t0 = performance.now();
          await b.ok([
            "--engine",
            config.engine,
            "init",
            "--name",
            envName,
            "--base-image",
            LAB_PYTHON,
          ]);
          console.error(
            `${config.label}: init took ${((performance.now() - t0) / 1000).toFixed(1)} s`,
          );
        });

        await t.step(
          "run --command passes the exit code; files in /workspace are the user's",
          async () => {
            const r = await b.venvoy([
              "run",
              envName,
              "--command",
              "id -u; echo hi > /workspace/owned.txt; exit 7",
            ]);
            assertEquals(r.code, 7, r.stderr);
            assertEquals(r.stdout.trim().split("\n").pop(), String(b.uid), "the session's uid");
            const st = await Deno.stat(join(b.cwd, "owned.txt"));
            assertEquals([st.uid, st.gid], [b.uid, b.gid], "owned by the host user");
            const persist = await Deno.stat(
              join(b.env.VENVOY_HOME, "environments", envName, "persist"),
            );
            assertEquals(persist.uid, b.uid, "persist/ stays its owner's");
          },
        );

        await t.step("a pip install of a local wheel persists, with its snapshot", async () => {
          await b.give(await makeWheel(ROOT));
          await b.ok(["run", envName, "--command", `pip install -q --no-deps /workspace/${WHEEL}`]);
          const h = JSON.parse((await b.ok(["history", "--name", envName, "--json"])).stdout);
          assertEquals(h.snapshots[0].changes?.python.added, [{
            name: "tinyvenvoy",
            version: "0.1",
          }]);
          const again = await b.ok(["run", envName, "--command", IMPORT_PROBE]);
          assertEquals(again.stdout.trim(), "venvoy-engines", "a new session still has it");
        });

        await t.step("export --format archive", async () => {
          const r = await b.ok(["export", "--name", envName, "--format", "archive"]);
          const m = /^[0-9a-f]{64} {2}(\/.+)$/m.exec(r.stdout);
          assert(m, `no sha256 line in: ${r.stdout}`);
          archives.set(config.label, m[1]);
        });
      } catch (e) {
        await b.venvoy(["delete", envName, "--force", "--purge"]);
        throw e;
      }
    },
  });
}

/** Imports the archive made on `from` as `into`'s user, and runs the package from it. */
function crossImport(from: string, into: string) {
  const source = CONFIGS.find((c) => c.label === from)!;
  const target = CONFIGS.find((c) => c.label === into)!;
  Deno.test({
    name: `engines as users have them: an archive from ${from} imports on ${into}`,
    ignore: source.skip !== null || target.skip !== null,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      const archive = archives.get(from);
      assert(archive, `${from} exported no archive (its test failed)`);
      const b = boxes.find((x) => x.config.label === into)!;
      const name = `${target.name}-imported`;
      const local = await b.give(archive);
      try {
        await b.ok(["--engine", target.engine, "import", local, "--name", name]);
        const r = await b.ok(["run", name, "--command", IMPORT_PROBE]);
        assertEquals(r.stdout.trim(), "venvoy-engines");
      } finally {
        await b.venvoy(["delete", name, "--force", "--purge"]);
        // delete keeps an image that carries another owner's label (the exporter's): by hand
        const env = { PATH: "/usr/local/bin:/usr/bin:/bin", ...target.env };
        const tag = `localhost/venvoy/${name}:latest`;
        await runAs(target.user, [target.engine, "image", "rm", "-f", tag], { env, cwd: "/" });
      }
    },
  });
}
crossImport("Docker Engine as root", "rootless podman");
crossImport("rootless podman", "Docker Engine as a docker-group user");

Deno.test({
  name: "engines as users have them: clean up each configuration's environment",
  ignore: CONFIGS.every((c) => c.skip !== null),
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    for (const b of boxes) {
      const r = await b.venvoy(["delete", b.config.name, "--force", "--purge"]);
      assertEquals(r.code, 0, `${b.config.label}: delete: ${r.stderr}`);
    }
  },
});
