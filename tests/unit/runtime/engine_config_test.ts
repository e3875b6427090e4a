/**
 * The configurations users have (rootless podman, a real Docker Engine, the docker CLI on
 * Podman), named as people name them, and the failures they meet, each with its fix.
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { DenoRunner } from "../../../src/process/mod.ts";
import { detect, type HostFacts } from "../../../src/runtime/detect.ts";
import { createRuntime, noRuntimeError } from "../../../src/runtime/mod.ts";
import { PodmanRuntime } from "../../../src/runtime/podman.ts";
import { renderText, toJson } from "../../../src/commands/runtime_info_action.ts";
import { RuntimeUnavailableError } from "../../../src/ui/errors.ts";
import { DOCKER_ON_PODMAN, PODMAN, stubBin } from "../../fakes/stub_bin.ts";

const runnerOn = (dir: string, env: Record<string, string> = {}) =>
  new DenoRunner({
    env: { PATH: dir, DOCKER_HOST: "unix:///nonexistent/docker.sock", HOME: "/home/ann", ...env },
  });

/** A Linux host; `files` are the readable files, `closed` the devices this user cannot open. */
function host(o: {
  uid?: number;
  files?: Record<string, string>;
  closed?: string[];
}): HostFacts {
  return {
    os: "linux",
    uid: o.uid ?? 1000,
    user: "ann",
    readText: (p) => o.files?.[p] ?? null,
    canOpen: (p) => !(o.closed ?? []).includes(p),
  };
}
const RANGES = { "/etc/subuid": "ann:100000:65536\n", "/etc/subgid": "ann:100000:65536\n" };

/** `docker version` of Debian's dockerd 20.10 (its component is "Engine"). */
const DOCKER_ENGINE_20 = JSON.stringify({
  Client: { Version: "20.10.24+dfsg1" },
  Server: {
    Platform: { Name: "" },
    Version: "20.10.24+dfsg1",
    Components: [{ Name: "Engine", Version: "20.10.24+dfsg1" }, { Name: "containerd" }],
  },
});

Deno.test("runtime-info names rootless podman, Docker Engine and the docker CLI on Podman", async () => {
  const dir = await stubBin({ docker: { stdout: DOCKER_ENGINE_20 }, podman: { stdout: PODMAN } });
  const d = await detect(runnerOn(dir), { hostname: "x", host: host({ files: RANGES }) });
  const json = toJson(d);
  assertEquals(json.runtimes.map((r) => [r.name, r.configuration, r.rootless]), [
    ["docker", "Docker Engine", null],
    ["podman", "podman (rootless)", true],
  ]);
  assertEquals(json.configuration, "Docker Engine");

  const root = await detect(runnerOn(dir), { hostname: "x", host: host({ uid: 0 }) });
  assertEquals(toJson(root).runtimes[1].configuration, "podman (rootful)");

  const shim = await stubBin({ docker: { stdout: DOCKER_ON_PODMAN } });
  const s = await detect(runnerOn(shim), { hostname: "x", host: host({ uid: 0 }) });
  assertEquals(toJson(s).configuration, "docker CLI on Podman");
});

Deno.test("the podman adapter learns rootless from detection: keep-id and --user", async () => {
  const dir = await stubBin({ podman: { stdout: PODMAN } });
  const spec = { image: "img", command: ["true"], user: { uid: 1000, gid: 1000 } };
  for (
    const [uid, mapping] of [
      [1000, ["--userns=keep-id:uid=1000,gid=1000", "--user", "1000:1000"]],
      [0, ["--user", "1000:1000"]],
    ] as const
  ) {
    const d = await detect(runnerOn(dir), { hostname: "x", host: host({ uid, files: RANGES }) });
    const rt = createRuntime("podman", new DenoRunner(), d.chosen!);
    assert(rt instanceof PodmanRuntime);
    assertEquals(rt.runArgv(spec).slice(3, 3 + mapping.length), [...mapping]);
  }
});

/** What `venvoy --engine E` would say: detection, then resolveRuntime's error. */
async function forcedError(
  engine: "docker" | "podman",
  dir: string,
  facts: HostFacts,
  env: Record<string, string> = {},
): Promise<RuntimeUnavailableError> {
  const d = await detect(runnerOn(dir, env), { engine, hostname: "x", host: facts });
  assertEquals(d.chosen, null);
  const err = noRuntimeError(d);
  assert(err instanceof RuntimeUnavailableError);
  assertEquals(err.exitCode, 3);
  return err;
}

Deno.test("a user not in the docker group: permission denied, and how to join it", async () => {
  const sock = "unix:///run/lab-docker/docker.sock";
  const dir = await stubBin({
    docker: {
      stdout: JSON.stringify({ Client: { Version: "20.10.24" }, Server: null }),
      stderr:
        `permission denied while trying to connect to the Docker daemon socket at ${sock}: Get "http://%2Frun%2Flab-docker%2Fdocker.sock/v1.24/version": dial unix /run/lab-docker/docker.sock: connect: permission denied`,
      code: 1,
    },
  });
  const err = await forcedError("docker", dir, host({ uid: 1000 }), { DOCKER_HOST: sock });
  assert(err.message.includes("permission denied on /run/lab-docker/docker.sock"), err.message);
  assert(err.message.includes("not in the docker group"), err.message);
  assert(err.hint?.startsWith("sudo usermod -aG docker $USER"), err.hint);
  assert(!err.hint?.includes("install a container runtime"), "no install advice: it is installed");
});

Deno.test("a dockerd that is not running: say so, and how to start it", async () => {
  const dir = await stubBin({
    docker: {
      stdout: JSON.stringify({ Client: { Version: "20.10.24" }, Server: null }),
      stderr:
        "Cannot connect to the Docker daemon at unix:///nonexistent/docker.sock. Is the docker daemon running?",
      code: 1,
    },
  });
  const err = await forcedError("docker", dir, host({ uid: 0 }));
  assert(err.message.includes("Docker daemon is not running"), err.message);
  assert(err.message.includes("/nonexistent/docker.sock"), err.message);
  assert(err.hint?.includes("sudo systemctl start docker"), err.hint);
});

Deno.test("rootless podman without a subuid range: which file, and the usermod that adds one", async () => {
  const dir = await stubBin({ podman: { stdout: PODMAN } });
  const others = { "/etc/subuid": "bob:100000:65536\n", "/etc/subgid": "ann:100000:65536\n" };
  const err = await forcedError("podman", dir, host({ files: others }));
  assert(err.message.includes("no subuid range for ann in /etc/subuid"), err.message);
  assert(err.hint?.includes("usermod --add-subuids 100000-165535"), err.hint);
  // by uid is as good as by name; a range of size 0 is none
  const byUid = { "/etc/subuid": "1000:100000:65536\n", "/etc/subgid": "ann:1:0\n" };
  const err2 = await forcedError("podman", dir, host({ files: byUid }));
  assert(err2.message.includes("no subgid range for ann in /etc/subgid"), err2.message);
});

Deno.test("rootless podman with /dev/net/tun closed: its network cannot start; chmod 0666", async () => {
  const dir = await stubBin({ podman: { stdout: PODMAN } });
  const err = await forcedError("podman", dir, host({ files: RANGES, closed: ["/dev/net/tun"] }));
  assert(err.message.includes("/dev/net/tun is not usable by ann"), err.message);
  assert(err.hint?.includes("chmod 0666 /dev/net/tun"), err.hint);
  // rootful podman needs neither a range nor the device
  const d = await detect(runnerOn(dir), {
    engine: "podman",
    hostname: "x",
    host: host({ uid: 0, closed: ["/dev/net/tun"] }),
  });
  assertEquals(d.chosen?.configuration, "podman (rootful)");
});

Deno.test("rootless podman on fuse-overlayfs with /dev/fuse closed: chmod 0666 /dev/fuse", async () => {
  const dir = await stubBin({ podman: { stdout: PODMAN } });
  const conf = `[storage]\ndriver = "overlay"\n[storage.options.overlay]\n` +
    `mount_program = "/usr/bin/fuse-overlayfs"\n`;
  const files = { ...RANGES, "/home/ann/.config/containers/storage.conf": conf };
  const err = await forcedError("podman", dir, host({ files, closed: ["/dev/fuse"] }));
  assert(err.message.includes("/dev/fuse is not usable by ann"), err.message);
  assert(err.hint?.includes("chmod 0666 /dev/fuse"), err.hint);
  // native overlay does not need /dev/fuse
  const native = { ...RANGES, "/home/ann/.config/containers/storage.conf": `driver = "overlay"\n` };
  const d = await detect(runnerOn(dir), {
    engine: "podman",
    hostname: "x",
    host: host({ files: native, closed: ["/dev/fuse"] }),
  });
  assertEquals(d.chosen?.configuration, "podman (rootless)");
});

/** A docker whose socket refuses this user (not in the docker group). */
const DOCKER_DENIED = {
  stdout: JSON.stringify({ Client: { Version: "20.10.24" }, Server: null }),
  stderr: "permission denied while trying to connect to the Docker daemon socket",
  code: 1,
};

Deno.test("nothing usable: each installed engine's fix, not install advice", async () => {
  const dir = await stubBin({ docker: DOCKER_DENIED, podman: { stdout: PODMAN } });
  const d = await detect(runnerOn(dir), {
    hostname: "x",
    host: host({ closed: ["/dev/net/tun"] }),
  });
  const err = noRuntimeError(d);
  assert(err.hint?.includes("docker: sudo usermod -aG docker"), err.hint);
  assert(err.hint?.includes("podman: an administrator runs"), err.hint);
});

Deno.test("runtime-info text: the Engine line, an ENGINE column and each unusable one's hint", async () => {
  const dir = await stubBin({ docker: DOCKER_DENIED, podman: { stdout: PODMAN } });
  const d = await detect(runnerOn(dir), { hostname: "x", host: host({ files: RANGES }) });
  const text = renderText(d, (rows) => rows.map((r) => r.join(" | ")).join("\n"));
  assert(text.includes("\nEngine:   podman (rootless)\n"), text);
  assert(text.includes("  NAME | VERSION | USABLE | ENGINE | PATH | NOTE"), text);
  assert(text.includes("| Docker Engine |"), text);
  assert(text.includes("  hint (docker): sudo usermod -aG docker $USER"), text);
});

Deno.test("the docker CLI on root's Podman socket, as a user: not the docker group's business", async () => {
  const sock = "unix:///run/podman/podman.sock";
  const dir = await stubBin({
    docker: {
      byArg: {
        "--version": { stdout: "Docker version 28.2.2, build e6534b4" },
        image: { code: 1, stderr: `permission denied while trying to connect to ${sock}` },
      },
    },
  });
  const err = await forcedError("docker", dir, host({}), { DOCKER_HOST: sock });
  assert(err.message.includes("rootful Podman's socket"), err.message);
  assert(err.hint?.includes("systemctl --user start podman.socket"), err.hint);
  assert(!err.hint?.includes("usermod"), err.hint);
});
