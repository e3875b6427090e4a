/**
 * Editor attach judged by the real devcontainers CLI (@devcontainers/cli, installed by
 * .ci/run), on each engine configuration as its user (tests/lab/setup.sh), through the
 * bundled product (dist/venvoy): the devcontainer.json venvoy writes for `venvoy run` with
 * an editor is brought up with `devcontainer up --docker-path ENGINE`, and a file written in
 * /workspace belongs to the user on the host. Rootless podman is the case that matters
 * (the CLI adds --userns=keep-id there); rootful podman, which refuses keep-id, and a
 * real Docker Engine used by a docker-group user sit in the same table.
 *
 * Then, on the rootless user's environment: the docker CLI on that user's own Podman API
 * socket (`podman system service`, started and stopped here), where `venvoy run` writes
 * /workspace files that are the user's.
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import {
  homeEnv,
  LAB_DOCKER_SOCK,
  LAB_DOCKER_USER,
  LAB_PYTHON,
  LAB_ROOTLESS_USER,
  type LabUser,
  labUser,
  runAs,
  runner,
} from "./lab.ts";

const DEVCONTAINER = Deno.env.get("VENVOY_LAB_DEVCONTAINER") ??
  "/var/cache/venvoy-lab/devcontainers/node_modules/.bin/devcontainer";
const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

interface Config {
  label: string;
  name: string;
  engine: "podman" | "docker";
  /** null: root. */
  user: LabUser | null;
  env: Record<string, string>;
  skip: string | null;
}

/** What rootless podman needs of a login: its HOME (storage.conf, store), its runtime dir. */
function userEnv(user: LabUser): Record<string, string> {
  return { HOME: user.home, USER: user.name, XDG_RUNTIME_DIR: `/run/user/${user.uid}` };
}

async function configs(): Promise<Config[]> {
  const isRoot = Deno.uid() === 0;
  const rootless = isRoot ? await labUser(LAB_ROOTLESS_USER) : null;
  const dockerUser = isRoot ? await labUser(LAB_DOCKER_USER) : null;
  const notRoot = "not root (the test switches users with runuser)";
  const list: Config[] = [
    {
      label: "rootless podman",
      name: "it-editor-rl",
      engine: "podman",
      user: rootless,
      env: rootless ? userEnv(rootless) : {},
      skip: !isRoot ? notRoot : !rootless ? `no rootless user ${LAB_ROOTLESS_USER}` : null,
    },
    {
      label: "rootful podman as root",
      name: "it-editor-root",
      engine: "podman",
      user: null,
      env: {},
      skip: null,
    },
    {
      label: "Docker Engine as a docker-group user",
      name: "it-editor-dock",
      engine: "docker",
      user: dockerUser,
      env: { DOCKER_HOST: `unix://${LAB_DOCKER_SOCK}` },
      skip: !isRoot ? notRoot : !dockerUser ? `no docker-group user ${LAB_DOCKER_USER}` : null,
    },
  ];
  for (const c of list) {
    if (c.skip) continue;
    if (c.engine === "docker" && !runner.which("docker")) {
      c.skip = "no docker CLI on PATH";
      continue;
    }
    const exists = c.engine === "docker"
      ? ["docker", "image", "inspect", LAB_PYTHON]
      : ["podman", "image", "exists", LAB_PYTHON];
    const r = await runAs(c.user, exists, { env: { ...c.env, PATH: SYSTEM_PATH }, cwd: "/" });
    if (r.code !== 0) c.skip = `${LAB_PYTHON} is not in its store (run tests/lab/setup.sh)`;
  }
  return list;
}

const CONFIGS = await configs();
const cliSkip = (() => {
  try {
    Deno.statSync(DEVCONTAINER);
    return null;
  } catch {
    return `the devcontainers CLI is not at ${DEVCONTAINER} (.ci/run installs it)`;
  }
})();
for (const c of CONFIGS) if (c.skip) console.error(`SKIP editor tests on ${c.label}: ${c.skip}`);
if (cliSkip) console.error(`SKIP editor attach with the devcontainers CLI: ${cliSkip}`);

/** A root folder every configuration's user can reach; its own folders inside. */
const ROOT = await Deno.makeTempDir({ prefix: "venvoy-it-editor-" });
await Deno.chmod(ROOT, 0o755);
globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(ROOT, { recursive: true });
  } catch { /* best effort */ }
});

interface Box {
  config: Config;
  uid: number;
  gid: number;
  project: string;
  env: Record<string, string>;
  venvoy(args: string[], extra?: Record<string, string>): ReturnType<typeof runAs>;
  /** `devcontainer ARGS` as the user. */
  devcontainer(args: string[]): ReturnType<typeof runAs>;
  /** The engine's own CLI as the user (teardown). */
  engine(args: string[]): ReturnType<typeof runAs>;
}

const made = new Map<string, Promise<Box>>();
/** The configuration's environment, built once as its user, with `code` as the editor. */
function box(c: Config): Promise<Box> {
  if (!made.has(c.label)) made.set(c.label, makeBox(c));
  return made.get(c.label)!;
}

async function makeBox(c: Config): Promise<Box> {
  const uid = c.user?.uid ?? 0;
  const gid = c.user?.gid ?? 0;
  const home = join(ROOT, c.name);
  // Named per configuration: the CLI's derived image is vsc-<this name>-<hash>-uid.
  const project = join(home, `project-${c.name}`);
  const bin = join(home, "bin");
  for (const d of [home, project, bin]) {
    await Deno.mkdir(d, { recursive: true });
    await Deno.chown(d, uid, gid);
  }
  // The editor venvoy opens: it only says it was asked (the devcontainers CLI attaches).
  await Deno.writeTextFile(join(bin, "code"), '#!/bin/sh\necho "code $*" >&2\n');
  await Deno.chmod(join(bin, "code"), 0o755);
  const program = join(home, "venvoy");
  await Deno.copyFile(new URL("../../dist/venvoy", import.meta.url).pathname, program);
  await Deno.chmod(program, 0o755);
  const env = homeEnv(home, c.user, { path: `${bin}:${SYSTEM_PATH}`, extra: c.env });
  const deno = [Deno.execPath(), "run", "-A", "--no-config", "--no-lock", "--quiet", "--ext=js"];
  const b: Box = {
    config: c,
    uid,
    gid,
    project,
    env,
    venvoy: (args, extra = {}) =>
      runAs(c.user, [...deno, program, ...args], { env: { ...env, ...extra }, cwd: project }),
    devcontainer: (args) => runAs(c.user, [DEVCONTAINER, ...args], { env, cwd: project }),
    engine: (args) => runAs(c.user, [c.engine, ...args], { env, cwd: "/" }),
  };
  const init = await b.venvoy([
    "--engine",
    c.engine,
    "init",
    "--name",
    c.name,
    "--base-image",
    LAB_PYTHON,
  ]);
  assertEquals(init.code, 0, `init on ${c.label}:\n${init.stderr}`);
  return b;
}

async function ownerOf(path: string): Promise<[number | null, number | null]> {
  const st = await Deno.stat(path);
  return [st.uid, st.gid];
}

for (const config of CONFIGS) {
  Deno.test({
    name: `editor attach on ${config.label}: the devcontainers CLI brings venvoy's config up`,
    ignore: config.skip !== null || cliSkip !== null,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      const b = await box(config);
      const configured = await b.venvoy(["configure", "--editor", "code"]);
      assertEquals(configured.code, 0, configured.stderr);
      const opened = await b.venvoy(["run", config.name]);
      assertEquals(opened.code, 0, opened.stderr);
      assert(/opened code on/.test(opened.stderr), opened.stderr);
      const envDir = join(b.env.VENVOY_HOME, "environments", config.name);
      const where = [
        "--workspace-folder",
        b.project,
        "--config",
        join(envDir, ".devcontainer", "devcontainer.json"),
        "--docker-path",
        config.engine,
      ];
      let containerId: string | null = null;
      try {
        const up = await b.devcontainer(["up", ...where]);
        const result = JSON.parse(up.stdout.trim().split("\n").pop() || "{}");
        containerId = result.containerId ?? null;
        assertEquals(result.outcome, "success", `devcontainer up:\n${up.stdout}\n${up.stderr}`);
        assertEquals(result.remoteWorkspaceFolder, "/workspace");

        const inside = await b.devcontainer([
          "exec",
          ...where,
          "sh",
          "-c",
          "id -u; id -g; echo attached > /workspace/from-editor.txt; " +
          "touch /opt/venvoy/persist/from-editor; echo $VENVOY_ENV",
        ]);
        assertEquals(inside.code, 0, `devcontainer exec:\n${inside.stdout}\n${inside.stderr}`);
        assertEquals(inside.stdout.trim().split("\n").slice(-3), [
          String(b.uid),
          String(b.gid),
          config.name,
        ], "the session's ids and its environment");
        assertEquals(
          await ownerOf(join(b.project, "from-editor.txt")),
          [b.uid, b.gid],
          "a file written in /workspace belongs to the user on the host",
        );
        assertEquals(
          (await ownerOf(join(envDir, "persist", "from-editor")))[0],
          b.uid,
          "persist/ too",
        );
      } finally {
        await teardown(b, containerId);
      }
    },
  });
}

/**
 * Removes the editor's container and the -uid image the CLI derived for this project
 * (built before the container starts, so also after a failed `up`), never venvoy's own.
 */
async function teardown(b: Box, containerId: string | null): Promise<void> {
  if (containerId) {
    const rm = await b.engine(["rm", "-f", containerId]);
    assertEquals(rm.code, 0, rm.stderr);
  }
  const derived = `vsc-${b.project.split("/").pop()}-*-uid`;
  for (const reference of [derived, `localhost/${derived}`]) {
    const ids = await b.engine(["images", "-q", "--filter", `reference=${reference}`]);
    for (const id of new Set(ids.stdout.split("\n").filter(Boolean))) {
      await b.engine(["rmi", "-f", id]);
    }
  }
}

const ROOTLESS = CONFIGS[0];

Deno.test({
  name: "docker CLI on the user's own (rootless) Podman socket: /workspace files are the user's",
  ignore: ROOTLESS.skip !== null || runner.which("docker") === null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const b = await box(ROOTLESS);
    const user = ROOTLESS.user!;
    const socket = `/run/user/${user.uid}/venvoy-it-${crypto.randomUUID().slice(0, 8)}.sock`;
    // Bounded twice: `timeout` ends it after 5 minutes whatever happens to this test.
    const service = new Deno.Command("runuser", {
      args: [
        "-u",
        user.name,
        "--",
        "env",
        "-i",
        ...Object.entries({ ...userEnv(user), PATH: "/usr/bin:/bin" }).map(([k, v]) => `${k}=${v}`),
        "timeout",
        "300",
        "podman",
        "system",
        "service",
        "--time=0",
        `unix://${socket}`,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const docker = { DOCKER_HOST: `unix://${socket}` };
    try {
      await waitFor(socket);
      const r = await b.venvoy([
        "--engine",
        "docker",
        "run",
        ROOTLESS.name,
        "--command",
        "echo hi > /workspace/from-docker.txt && touch /opt/venvoy/persist/from-docker",
      ], docker);
      assertEquals(r.code, 0, `venvoy run through the docker CLI:\n${r.stderr}`);
      assertEquals(
        await ownerOf(join(b.project, "from-docker.txt")),
        [user.uid, user.gid],
        "a file written in /workspace belongs to the user on the host",
      );
      const persist = join(b.env.VENVOY_HOME, "environments", ROOTLESS.name, "persist");
      assertEquals((await ownerOf(join(persist, "from-docker")))[0], user.uid, "persist/ too");
      const info = await b.venvoy(["--engine", "docker", "runtime-info", "--json"], docker);
      assertEquals(info.code, 0, info.stderr);
      const j = JSON.parse(info.stdout);
      assertEquals([
        j.configuration,
        j.runtimes.find((r: { name: string }) => r.name === "docker")
          ?.rootless,
      ], ["docker CLI on rootless Podman", true]);
    } finally {
      // Only the process started here: runuser passes SIGTERM on to the service.
      try {
        service.kill("SIGTERM");
      } catch { /* already gone */ }
      await service.status;
    }
  },
});

/** The service's socket appears within 20 s. */
async function waitFor(socket: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      if (Deno.statSync(socket).isSocket) return;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`podman system service did not create ${socket} in 20 s`);
}

Deno.test({
  name: "editor tests: each configuration's environment is deleted",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    for (const made1 of made.values()) {
      const b = await made1.catch(() => null);
      if (!b) continue;
      const r = await b.venvoy(["delete", b.config.name, "--force", "--purge"]);
      assertEquals(r.code, 0, `${b.config.label}: ${r.stderr}`);
    }
  },
});
