/**
 * Rootless podman as its own user (tests/lab/setup.sh), through the bundled product
 * (dist/venvoy), on one environment built once:
 * - editor attach judged by the real devcontainers CLI (@devcontainers/cli, installed by
 *   .ci/run): the devcontainer.json venvoy writes for `venvoy run` with an editor is
 *   brought up with `devcontainer up --docker-path podman`, the session is the user, and a
 *   file written in /workspace belongs to the user on the host;
 * - the docker CLI on this user's own Podman API socket (`podman system service`, started
 *   and stopped here): `venvoy run` writes /workspace files that are the user's.
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { LAB_PYTHON, LAB_ROOTLESS_USER, type LabUser, labUser, runAs, runner } from "./lab.ts";

const DEVCONTAINER = Deno.env.get("VENVOY_LAB_DEVCONTAINER") ??
  "/var/cache/venvoy-lab/devcontainers/node_modules/.bin/devcontainer";
const ENV_NAME = "it-editor-rl";

async function setup(): Promise<{ user: LabUser | null; skip: string | null }> {
  if (Deno.uid() !== 0) return { user: null, skip: "not root (the test switches users)" };
  const user = await labUser(LAB_ROOTLESS_USER);
  if (!user) return { user, skip: `no rootless user ${LAB_ROOTLESS_USER} (tests/lab/setup.sh)` };
  const r = await runAs(user, ["podman", "image", "exists", LAB_PYTHON], {
    env: { ...userEnv(user), PATH: "/usr/bin:/bin" },
    cwd: "/",
  });
  if (r.code !== 0) return { user, skip: `${LAB_PYTHON} is not in ${user.name}'s store` };
  return { user, skip: null };
}

/** What rootless podman needs of a login: its HOME (storage.conf, store), its runtime dir. */
function userEnv(user: LabUser): Record<string, string> {
  return { HOME: user.home, USER: user.name, XDG_RUNTIME_DIR: `/run/user/${user.uid}` };
}

const { user, skip } = await setup();
const cliSkip = (() => {
  try {
    Deno.statSync(DEVCONTAINER);
    return null;
  } catch {
    return `the devcontainers CLI is not at ${DEVCONTAINER} (.ci/run installs it)`;
  }
})();
if (skip) console.error(`SKIP rootless editor and docker-socket tests: ${skip}`);
else if (cliSkip) console.error(`SKIP editor attach with the devcontainers CLI: ${cliSkip}`);

/** The user's folder: a project (the session's /workspace), state, a fake editor. */
const ROOT = await Deno.makeTempDir({ prefix: "venvoy-it-editor-" });
await Deno.chmod(ROOT, 0o755);
globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(ROOT, { recursive: true });
  } catch { /* best effort */ }
});

interface Box {
  user: LabUser;
  project: string;
  env: Record<string, string>;
  venvoy(args: string[], extra?: Record<string, string>): ReturnType<typeof runAs>;
  /** `devcontainer ARGS` as the user. */
  devcontainer(args: string[]): ReturnType<typeof runAs>;
}

let made: Promise<Box> | null = null;
/** The environment, built once as the user with rootless podman, and `code` set as editor. */
function box(u: LabUser): Promise<Box> {
  made ??= (async () => {
    const home = join(ROOT, "home");
    const project = join(home, "project");
    const bin = join(home, "bin");
    for (const d of [home, project, bin]) {
      await Deno.mkdir(d, { recursive: true });
      await Deno.chown(d, u.uid, u.gid);
    }
    // The editor venvoy opens: it only says it was asked (the devcontainers CLI attaches).
    await Deno.writeTextFile(join(bin, "code"), '#!/bin/sh\necho "code $*" >&2\n');
    await Deno.chmod(join(bin, "code"), 0o755);
    const program = join(ROOT, "venvoy");
    await Deno.copyFile(new URL("../../dist/venvoy", import.meta.url).pathname, program);
    await Deno.chmod(program, 0o755);
    const env: Record<string, string> = {
      ...userEnv(u),
      LOGNAME: u.name,
      PATH: `${bin}:/usr/local/bin:/usr/bin:/bin`,
      LANG: "C.UTF-8",
      NO_COLOR: "1",
      DENO_NO_UPDATE_CHECK: "1",
      VENVOY_HOME: join(home, "state"),
      VENVOY_PROJECTS: join(home, "projects"),
      XDG_CACHE_HOME: join(home, "cache"),
      ...(Deno.env.get("SSL_CERT_FILE") ? { SSL_CERT_FILE: Deno.env.get("SSL_CERT_FILE")! } : {}),
    };
    const deno = [Deno.execPath(), "run", "-A", "--no-config", "--no-lock", "--quiet", "--ext=js"];
    const b: Box = {
      user: u,
      project,
      env,
      venvoy: (args, extra = {}) =>
        runAs(u, [...deno, program, ...args], { env: { ...env, ...extra }, cwd: project }),
      devcontainer: (args) => runAs(u, [DEVCONTAINER, ...args], { env, cwd: project }),
    };
    const init = await b.venvoy([
      "--engine",
      "podman",
      "init",
      "--name",
      ENV_NAME,
      "--base-image",
      LAB_PYTHON,
    ]);
    assertEquals(init.code, 0, `init as ${u.name}:\n${init.stderr}`);
    return b;
  })();
  return made;
}

async function ownerOf(path: string): Promise<[number | null, number | null]> {
  const st = await Deno.stat(path);
  return [st.uid, st.gid];
}

Deno.test({
  name: "editor attach under rootless podman: the devcontainers CLI brings venvoy's config up",
  ignore: skip !== null || cliSkip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const b = await box(user!);
    const configured = await b.venvoy(["configure", "--editor", "code"]);
    assertEquals(configured.code, 0, configured.stderr);
    const opened = await b.venvoy(["run", ENV_NAME]);
    assertEquals(opened.code, 0, opened.stderr);
    assert(/opened code on/.test(opened.stderr), opened.stderr);
    const config = join(
      b.env.VENVOY_HOME,
      "environments",
      ENV_NAME,
      ".devcontainer/devcontainer.json",
    );
    const where = ["--workspace-folder", b.project, "--config", config, "--docker-path", "podman"];
    let containerId: string | null = null;
    try {
      const up = await b.devcontainer(["up", ...where]);
      const result = JSON.parse(up.stdout.trim().split("\n").pop() ?? "{}");
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
        String(b.user.uid),
        String(b.user.gid),
        ENV_NAME,
      ], "the session's ids and its environment");
      assertEquals(
        await ownerOf(join(b.project, "from-editor.txt")),
        [b.user.uid, b.user.gid],
        "a file written in /workspace belongs to the user on the host",
      );
      const persist = join(b.env.VENVOY_HOME, "environments", ENV_NAME, "persist");
      assertEquals((await ownerOf(join(persist, "from-editor")))[0], b.user.uid, "persist/ too");
    } finally {
      if (containerId) await teardown(b, containerId);
    }
  },
});

/** Removes the editor's container and the -uid image the CLI derived for it. */
async function teardown(b: Box, containerId: string): Promise<void> {
  const podman = (args: string[]) =>
    runAs(b.user, ["podman", ...args], { env: { ...b.env, PATH: "/usr/bin:/bin" }, cwd: "/" });
  const image = (await podman(["container", "inspect", "--format", "{{.ImageName}}", containerId]))
    .stdout.trim();
  const rm = await podman(["rm", "-f", "-t", "0", containerId]);
  assertEquals(rm.code, 0, rm.stderr);
  // Only the image the CLI built for this container (vsc-…-uid), never venvoy's own.
  if (/\/vsc-[^/]*-uid(:|$)/.test(image)) await podman(["rmi", "-f", image]);
}

Deno.test({
  name: "docker CLI on the user's own (rootless) Podman socket: /workspace files are the user's",
  ignore: skip !== null || runner.which("docker") === null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const b = await box(user!);
    const socket = `/run/user/${b.user.uid}/venvoy-it-${crypto.randomUUID().slice(0, 8)}.sock`;
    // Bounded twice: `timeout` ends it after 5 minutes whatever happens to this test.
    const service = new Deno.Command("runuser", {
      args: [
        "-u",
        b.user.name,
        "--",
        "env",
        "-i",
        ...Object.entries({ ...userEnv(b.user), PATH: "/usr/bin:/bin" }).map(([k, v]) =>
          `${k}=${v}`
        ),
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
        ENV_NAME,
        "--command",
        "echo hi > /workspace/from-docker.txt && touch /opt/venvoy/persist/from-docker",
      ], docker);
      assertEquals(r.code, 0, `venvoy run through the docker CLI:\n${r.stderr}`);
      assertEquals(
        await ownerOf(join(b.project, "from-docker.txt")),
        [b.user.uid, b.user.gid],
        "a file written in /workspace belongs to the user on the host",
      );
      const persist = join(b.env.VENVOY_HOME, "environments", ENV_NAME, "persist");
      assertEquals((await ownerOf(join(persist, "from-docker")))[0], b.user.uid, "persist/ too");
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
  name: "rootless editor tests: the environment is deleted",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    if (!made) return;
    const b = await made;
    const r = await b.venvoy(["delete", ENV_NAME, "--force", "--purge"]);
    assertEquals(r.code, 0, r.stderr);
  },
});
