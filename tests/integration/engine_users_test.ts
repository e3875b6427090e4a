/**
 * The whole session workflow on every engine configuration, each run as its own user
 * through the bundled product (dist/venvoy) (tests/lab/setup.sh): rootful podman (root),
 * rootless podman (the lab's rootless user), a real Docker Engine as root and as a member of
 * group docker, the docker CLI on podman's socket (root), and Apptainer as the cluster user
 * (no podman and no docker on its PATH; its base is a SIF of the lab's Python image).
 * One environment per configuration, reused across the steps: runtime-info names the
 * configuration, `init` on the lab's Python image, `run --command` passes the exit code
 * through, a file written in /workspace belongs to the host user, a shell under a pty runs
 * what is typed and exits with its code, a `pip install` of a local wheel persists with its
 * snapshot in history, `record` then `export --format archive --with-inputs`, `verify` of
 * that archive, `import` of it, `freeze`, `export` as tarball, dockerfile and yaml,
 * `restore` of the first snapshot, and an R environment on the lab's R image. An archive
 * exported on one configuration imports and runs on another.
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { cluster, LAB_USER } from "./hpc.ts";
import {
  homeEnv,
  LAB_DOCKER_SOCK,
  LAB_DOCKER_USER,
  LAB_PYTHON,
  LAB_R,
  LAB_ROOTLESS_USER,
  type LabUser,
  labUser,
  runAs,
  runner,
  underPty,
} from "./lab.ts";

const WHEEL = "tinyvenvoy-0.1-py3-none-any.whl";
const IMPORT_PROBE = "python -c 'import tinyvenvoy; print(tinyvenvoy.VALUE)'";

interface Config {
  label: string;
  /** The environment's name: one per configuration (two share the Docker Engine's store). */
  name: string;
  engine: "podman" | "docker" | "apptainer";
  configuration: string;
  /** null: root. */
  user: LabUser | null;
  env: Record<string, string>;
  skip: string | null;
  /** The Python and R bases: the lab's images, or for Apptainer SIFs made of them. */
  base?: { python: string; r: string | null };
}

async function answers(cmd: string[], user: LabUser | null, env: Record<string, string>) {
  const r = await runAs(user, cmd, { env, cwd: "/" });
  return r.code === 0 ? null : (r.stderr.trim().split("\n").pop() ?? `exit ${r.code}`);
}

async function configs(): Promise<Config[]> {
  const isRoot = Deno.uid() === 0;
  const rootless = isRoot ? await labUser(LAB_ROOTLESS_USER) : null;
  const dockerUser = isRoot ? await labUser(LAB_DOCKER_USER) : null;
  const clusterUser = isRoot ? await labUser(LAB_USER) : null;
  const asRoot = !isRoot ? "not root (the test switches users with runuser)" : null;
  const dockerEnv = { DOCKER_HOST: `unix://${LAB_DOCKER_SOCK}` };
  // Its own HOME: podman's storage.conf and image store are in it.
  const rootlessEnv: Record<string, string> = rootless
    ? { HOME: rootless.home, XDG_RUNTIME_DIR: `/run/user/${rootless.uid}` }
    : {};
  const list: Config[] = [
    {
      label: "rootful podman",
      name: "it-eng-podman",
      engine: "podman",
      configuration: "podman (rootful)",
      user: null,
      env: {},
      skip: asRoot,
    },
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
    {
      label: "docker CLI on podman",
      name: "it-eng-docker-podman",
      engine: "docker",
      configuration: "docker CLI on Podman",
      user: null,
      env: { DOCKER_HOST: "unix:///run/docker.sock" },
      skip: asRoot,
    },
    {
      label: "Apptainer as the cluster user",
      name: "it-eng-apptainer",
      engine: "apptainer",
      configuration: "Apptainer",
      user: clusterUser,
      env: {},
      skip: asRoot ??
        (!clusterUser ? `no cluster user ${LAB_USER} (run tests/lab/setup.sh as root)` : null),
    },
  ];
  for (const c of list) {
    if (c.skip) continue;
    if (c.engine === "apptainer") {
      c.skip = !runner.which("apptainer")
        ? "apptainer is not installed (VENVOY_LAB_APPTAINER=1 tests/lab/setup.sh)"
        : await answers(["podman", "image", "exists", LAB_PYTHON], null, { PATH: "/usr/bin:/bin" })
        ? `${LAB_PYTHON} is not in root's podman store, to make the SIF base of (run tests/lab/setup.sh)`
        : null;
      continue;
    }
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
  /** `venvoy ARGS` under a pty, `input` typed at it. */
  typed(args: string[], input: string): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Copies a file into the project folder and gives it to the user. */
  give(file: string): Promise<string>;
}

async function box(config: Config): Promise<Box> {
  const uid = config.user?.uid ?? 0;
  const gid = config.user?.gid ?? 0;
  const home = join(ROOT, config.label.replaceAll(" ", "-"));
  await Deno.mkdir(join(home, "work"), { recursive: true });
  for (const d of [home, join(home, "work")]) await Deno.chown(d, uid, gid);
  const env = homeEnv(home, config.user, {
    // The cluster user's node has apptainer and no podman and no docker (hpc.ts).
    path: config.engine === "apptainer"
      ? (await cluster()).pathNoScheduler
      : config.user
      ? "/usr/local/bin:/usr/bin:/bin"
      // root's login PATH: rootful podman's netavark runs iptables from /usr/sbin
      : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    extra: config.env,
  });
  const bin = await venvoyProgram();
  const cwd = join(home, "work");
  const argv = (args: string[]) => [
    Deno.execPath(),
    "run",
    "--allow-all",
    "--no-config",
    "--no-lock",
    "--quiet",
    "--ext=js",
    bin,
    ...args,
  ];
  const venvoy = (args: string[]) => runAs(config.user, argv(args), { env, cwd });
  return {
    config,
    uid,
    gid,
    cwd,
    env,
    venvoy,
    typed: (args, input) =>
      runAs(config.user, underPty(argv(args)), { env, cwd, input, timeoutMs: 180_000 }),
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
/** An archive of the first environment made, just after init: the Apptainer user's start. */
let seed: string | null = null;
const boxes: Box[] = [];
const APPTAINER_INIT_GAP = "the lab's apptainer (Debian sid's, on a private glibc) cannot " +
  "unpack a local SIF base for a build (its extraction re-exec fails: GLIBC_2.38 not " +
  "found), and the cluster user has no podman: its environment is imported instead";

/** The sha256 line's path of `venvoy export` (sha256sum form). */
function exported(stdout: string): string {
  const m = /^[0-9a-f]{64} {2}(\/.+)$/m.exec(stdout);
  assert(m, `no sha256 line in: ${stdout}`);
  return m[1];
}

async function historyOf(b: Box, name: string) {
  return JSON.parse((await b.ok(["history", "--name", name, "--json"])).stdout) as {
    snapshots: {
      timestamp: string;
      changes: { python: { added: unknown[]; removed: unknown[] } } | null;
    }[];
    records?: { id: string }[];
  };
}

for (const config of CONFIGS) {
  Deno.test({
    name: `engines as users have them: ${config.label}`,
    ignore: config.skip !== null,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async (t) => {
      const t00 = performance.now();
      const b = await box(config);
      boxes.push(b);
      const envName = config.name;
      const engine = ["--engine", config.engine];
      const timed = async (what: string, fn: () => Promise<void>) => {
        const t0 = performance.now();
        await fn();
        console.error(
          `${config.label}: ${what} took ${((performance.now() - t0) / 1000).toFixed(1)} s`,
        );
      };
      const step = (
        name: string,
        fn: () => Promise<void>,
        gap: string | null = null,
      ) => {
        if (gap) console.error(`IGNORE ${config.label}: ${name}: ${gap}`);
        return t.step({ name, ignore: gap !== null, fn: () => timed(name, fn) });
      };
      const apptainer = config.engine === "apptainer";
      try {
        await step("runtime-info names the configuration", async () => {
          const r = await b.ok([...engine, "runtime-info", "--json"]);
          const j = JSON.parse(r.stdout);
          assertEquals([j.runtime, j.configuration], [config.engine, config.configuration]);
        });

        await step(
          "init on the lab's Python image",
          async () => {
            await b.ok([...engine, "init", "--name", envName, "--base-image", LAB_PYTHON]);
            if (CONFIGS.some((c) => c.engine === "apptainer" && !c.skip) && !seed) {
              seed = exported(
                (await b.ok(["export", "--name", envName, "--format", "archive"])).stdout,
              );
            }
          },
          apptainer ? APPTAINER_INIT_GAP : null,
        );
        if (apptainer) {
          await step(
            "import of another configuration's fresh environment, in place of init",
            async () => {
              assert(seed, "no configuration exported a fresh environment (their init failed)");
              const local = await b.give(seed);
              await b.ok([...engine, "import", local, "--name", envName]);
            },
          );
        }

        await step(
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

        await step(
          "an interactive shell under a pty runs what is typed, exits with its code",
          async () => {
            const r = await b.typed(["run", envName], "echo typed-$((6 * 7))\nexit 5\n");
            assertEquals(r.code, 5, `${r.stdout}\n${r.stderr}`);
            assert.match(r.stdout, /^typed-42\r?$/m, r.stdout);
          },
        );

        await step("a pip install of a local wheel persists, with its snapshot", async () => {
          await b.give(await makeWheel(ROOT));
          await b.ok(["run", envName, "--command", `pip install -q --no-deps /workspace/${WHEEL}`]);
          const h = await historyOf(b, envName);
          assertEquals(h.snapshots[0].changes?.python.added, [{
            name: "tinyvenvoy",
            version: "0.1",
          }]);
          assert(h.snapshots.length >= 2, "init's snapshot, then the install's");
          const list = await b.ok(["history", "--name", envName]);
          assert(list.stdout.includes("+tinyvenvoy 0.1"), list.stdout);
          const again = await b.ok(["run", envName, "--command", IMPORT_PROBE]);
          assertEquals(again.stdout.trim(), "venvoy-engines", "a new session still has it");
          probes.set(config.label, (await b.ok(["run", envName, "--command", SAME_PROBE])).stdout);
        });

        await step("record, then export --format archive --with-inputs", async () => {
          await Deno.writeTextFile(join(b.cwd, "in.txt"), "3\n4\n");
          await Deno.chown(join(b.cwd, "in.txt"), b.uid, b.gid);
          const cmd = "python -c 'import tinyvenvoy; print(tinyvenvoy.VALUE, " +
            'sum(map(int, open("in.txt"))))\' > out.txt';
          const r = await b.ok([
            "record",
            "--name",
            envName,
            "--command",
            cmd,
            "--input",
            "in.txt",
            "--output",
            "out.txt",
          ]);
          assert.match(r.stdout, /records\/\d{8}_\d{6}(?:-\d+)?\.json$/m, r.stdout);
          assertEquals(await Deno.readTextFile(join(b.cwd, "out.txt")), "venvoy-engines 7\n");
          assertEquals((await historyOf(b, envName)).records?.length, 1, "history lists it");
          const ex = await b.ok([
            "export",
            "--name",
            envName,
            "--format",
            "archive",
            "--with-inputs",
          ]);
          archives.set(config.label, exported(ex.stdout));
        });

        await step("verify re-runs the record from the archive: same", async () => {
          const r = await b.ok([...engine, "verify", archives.get(config.label)!]);
          assert.match(r.stdout, /^ {2}same {5}out\.txt$/m, r.stdout);
          assert.match(r.stdout, /^verdict: same: 1 output\(s\) of 1 record\(s\) reproduced$/m);
        });

        await step("import of that archive runs the package", async () => {
          const name = `${envName}-own`;
          try {
            await b.ok([...engine, "import", archives.get(config.label)!, "--name", name]);
            const r = await b.ok(["run", name, "--command", IMPORT_PROBE]);
            assertEquals(r.stdout.trim(), "venvoy-engines");
          } finally {
            await b.venvoy(["delete", name, "--force", "--purge"]);
          }
        });

        await step("freeze locks the wheel with its hash", async () => {
          const f = await b.ok(["freeze", "--name", envName]);
          const lock = await Deno.readTextFile(f.stdout.trim());
          assert.match(lock, /^tinyvenvoy==0\.1 \\\n {4}--hash=sha256:[0-9a-f]{64}$/m, lock);
        });

        await step("export --format tarball, dockerfile and yaml", async () => {
          const out = (fmt: string, file: string) =>
            b.ok(["export", "--name", envName, "--format", fmt, "-o", file]);
          await out("tarball", "t.tar.gz");
          const list = await runner.run({ cmd: ["tar", "tzf", join(b.cwd, "t.tar.gz")] });
          assertEquals(list.code, 0, list.stderr);
          assert.match(list.stdout, /^(\.\/)?vendor\/tinyvenvoy-0\.1-py3-none-any\.whl$/m);
          assert.match(list.stdout, /^(\.\/)?Dockerfile$/m);
          await out("dockerfile", "Dockerfile");
          const df = await Deno.readTextFile(join(b.cwd, "Dockerfile"));
          assert.match(df, /^ARG BASE=/m);
          assert.match(df, /tinyvenvoy==0\.1/);
          await out("yaml", "env.yml");
          assert.match(await Deno.readTextFile(join(b.cwd, "env.yml")), /- tinyvenvoy==0\.1$/m);
        });

        await step("restore of init's snapshot takes the package out", async () => {
          const h = await historyOf(b, envName);
          const first = h.snapshots[h.snapshots.length - 1].timestamp;
          const r = await b.ok(["restore", "--name", envName, "--snapshot", first]);
          assert.match(r.stdout, /match it exactly/);
          const gone = await b.venvoy(["run", envName, "--command", IMPORT_PROBE]);
          assertEquals(gone.code, 1, "tinyvenvoy is gone");
        });

        await step(
          "an R environment on the lab's R image runs Rscript",
          async () => {
            const name = `${envName}-r`;
            try {
              await b.ok([
                ...engine,
                "init",
                "--runtime",
                "r",
                "--name",
                name,
                "--base-image",
                LAB_R,
              ]);
              const r = await b.ok([
                "run",
                name,
                "--command",
                "Rscript -e 'cat(R.version$major, .libPaths()[1], \"\\n\")'",
              ]);
              assertEquals(r.stdout.trim(), "4 /opt/venvoy/persist/R/library");
            } finally {
              await b.venvoy(["delete", name, "--force", "--purge"]);
            }
          },
          apptainer ? APPTAINER_INIT_GAP.replace(/: its environment.*$/, "") : null,
        );
      } catch (e) {
        await b.venvoy(["delete", envName, "--force", "--purge"]);
        throw e;
      } finally {
        console.error(
          `${config.label}: the workflow took ${((performance.now() - t00) / 1000).toFixed(1)} s`,
        );
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
/**
 * One image identity across engines (issue 19, item 3): the same probe script, run in each
 * configuration's environment, prints the same bytes: the interpreter, the base system, the
 * installed package and a floating-point sum.
 */
const SAME_PROBE = "python3 -c 'import hashlib, math, sys, tinyvenvoy; " +
  "print(sys.version, tinyvenvoy.VALUE, repr(math.fsum(i / 7 for i in range(10**5))), " +
  'hashlib.sha256(open("/etc/debian_version", "rb").read()).hexdigest())\'';
const probes = new Map<string, string>();

Deno.test({
  name: "engines as users have them: the same probe prints the same bytes on every configuration",
  ignore: CONFIGS.filter((c) => c.skip === null).length < 2,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () => {
    const ran = CONFIGS.filter((c) => c.skip === null).map((c) => c.label);
    assertEquals([...probes.keys()].sort(), [...ran].sort(), "every configuration ran the probe");
    const first = probes.get(ran[0])!;
    assert.match(first, /venvoy-engines/);
    for (const [label, out] of probes) assertEquals(out, first, `${label} against ${ran[0]}`);
  },
});

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
