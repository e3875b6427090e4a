/**
 * The docker CLI in front of an engine that runs as the user (rootless Podman's API socket,
 * the podman-docker shim, rootless Docker): the session runs as 0:0, the one id that
 * engine maps onto the host user. Detection learns it from whose socket it is; `run`
 * works it out from DOCKER_HOST or the docker context files, spawning nothing.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { DenoRunner } from "../../../src/process/mod.ts";
import { detect, type HostFacts } from "../../../src/runtime/detect.ts";
import {
  dockerEndpointFromFiles,
  DockerRuntime,
  engineRunsAsThisUser,
} from "../../../src/runtime/docker.ts";
import { createRuntime } from "../../../src/runtime/create.ts";
import { DOCKER_ON_PODMAN, stubBin } from "../../fakes/stub_bin.ts";
import { RecordingRunner } from "../../fakes/runner.ts";
import { tempDir } from "../../fakes/tmp.ts";

const SPEC = {
  image: "localhost/venvoy/study:latest",
  command: ["true"],
  user: { uid: 1002, gid: 1002 },
  name: "venvoy-study-1",
};

Deno.test("docker on a rootless engine: --user 0:0; on a root daemon: the host uid:gid", () => {
  const argv = (rootless: boolean) =>
    new DockerRuntime(new RecordingRunner(), "/usr/bin/docker", { backend: "podman", rootless })
      .runArgv(SPEC);
  assertEquals(argv(true).slice(0, 4), ["/usr/bin/docker", "run", "--user", "0:0"]);
  assertEquals(argv(false).slice(0, 4), ["/usr/bin/docker", "run", "--user", "1002:1002"]);
  // Never podman's keep-id: the docker CLI refuses any --userns but "host".
  assertEquals(argv(true).some((a) => a.startsWith("--userns")), false);
});

/** The test's own uid; as root, sockets are given to uid 4242 for the "user". */
const ME = Deno.uid() ?? 0;

/** A "socket" (any file: only its owner is read) owned by `uid`. */
async function socketOf(uid: number): Promise<string> {
  const dir = await tempDir("venvoy-sock-");
  const path = join(dir, "podman.sock");
  await Deno.writeTextFile(path, "");
  if (ME === 0) await Deno.chown(path, uid, uid);
  return path;
}

Deno.test("the endpoint as the docker CLI reads it: DOCKER_HOST, the context's meta.json, the default", async () => {
  const home = await tempDir("venvoy-dockercfg-");
  const meta = join(home, ".docker", "contexts", "meta", "0123abcd");
  await Deno.mkdir(meta, { recursive: true });
  await Deno.writeTextFile(
    join(meta, "meta.json"),
    JSON.stringify({
      Name: "podman",
      Endpoints: { docker: { Host: "unix:///run/user/1002/podman/podman.sock" } },
    }),
  );
  const env = (e: Record<string, string>) => (n: string) => e[n];
  assertEquals(dockerEndpointFromFiles(env({ HOME: home })), "unix:///var/run/docker.sock");
  await Deno.writeTextFile(
    join(home, ".docker", "config.json"),
    JSON.stringify({ currentContext: "podman" }),
  );
  assertEquals(
    dockerEndpointFromFiles(env({ HOME: home })),
    "unix:///run/user/1002/podman/podman.sock",
  );
  assertEquals(
    dockerEndpointFromFiles(env({ HOME: home, DOCKER_CONTEXT: "default" })),
    "unix:///var/run/docker.sock",
  );
  assertEquals(
    dockerEndpointFromFiles(
      env({ DOCKER_CONFIG: join(home, ".docker"), DOCKER_CONTEXT: "podman" }),
    ),
    "unix:///run/user/1002/podman/podman.sock",
  );
  assertEquals(
    dockerEndpointFromFiles(env({ HOME: home, DOCKER_HOST: "tcp://h:2375" })),
    "tcp://h:2375",
  );
});

Deno.test("engineRunsAsThisUser: a socket this non-root user owns; never for root or another's", async () => {
  const uid = ME === 0 ? 4242 : ME;
  const sock = await socketOf(uid);
  const runner = new RecordingRunner({ env: { DOCKER_HOST: `unix://${sock}` } });
  assertEquals(engineRunsAsThisUser(runner, "/usr/bin/docker", { uid }), true);
  assertEquals(engineRunsAsThisUser(runner, "/usr/bin/docker", { uid: uid + 1 }), false);
  assertEquals(engineRunsAsThisUser(runner, "/usr/bin/docker", { uid: 0 }), false);
  const gone = new RecordingRunner({ env: { DOCKER_HOST: `unix://${sock}.missing` } });
  assertEquals(engineRunsAsThisUser(gone, "/usr/bin/docker", { uid }), false);
  const tcp = new RecordingRunner({ env: { DOCKER_HOST: "tcp://127.0.0.1:2375" } });
  assertEquals(engineRunsAsThisUser(tcp, "/usr/bin/docker", { uid }), false);
  assertEquals(runner.calls.length + gone.calls.length + tcp.calls.length, 0, "nothing spawned");
});

Deno.test("the podman-docker shim run by a user is rootless podman; by root, or remote, it is not", async () => {
  const dir = await stubBin({ docker: { script: '#!/bin/sh\nexec /usr/bin/podman "$@"' } });
  const shim = join(dir, "docker");
  const none = new RecordingRunner({ env: { DOCKER_HOST: "unix:///nonexistent.sock" } });
  assertEquals(engineRunsAsThisUser(none, shim, { uid: 1002 }), true);
  assertEquals(engineRunsAsThisUser(none, shim, { uid: 0 }), false);
  const remote = new RecordingRunner({ env: { CONTAINER_HOST: "ssh://h/run/podman.sock" } });
  assertEquals(engineRunsAsThisUser(remote, shim, { uid: 1002 }), false);
});

/** A Linux host of user ann (uid), with nothing else read. */
function host(uid: number): HostFacts {
  return { os: "linux", uid, user: "ann", readText: () => null, canOpen: () => true };
}

Deno.test("detection: the docker CLI on this user's Podman socket is 'docker CLI on rootless Podman', and the adapter maps 0:0", async () => {
  const uid = ME === 0 ? 4242 : ME;
  const sock = await socketOf(uid);
  const dir = await stubBin({ docker: { stdout: DOCKER_ON_PODMAN } });
  const runner = new DenoRunner({ env: { PATH: dir, DOCKER_HOST: `unix://${sock}`, HOME: "/x" } });
  const mine = await detect(runner, { hostname: "x", host: host(uid), engine: "docker" });
  assertEquals(
    [mine.chosen?.backend, mine.chosen?.rootless, mine.chosen?.configuration],
    ["podman", true, "docker CLI on rootless Podman"],
  );
  const rt = createRuntime("docker", new RecordingRunner(), mine.chosen!) as DockerRuntime;
  assertEquals(rt.runArgv(SPEC).slice(2, 4), ["--user", "0:0"]);

  // root's (rootful) Podman socket, used by root: the host ids, as before.
  const root = await detect(runner, { hostname: "x", host: host(0), engine: "docker" });
  assertEquals([root.chosen?.rootless, root.chosen?.configuration], [
    undefined,
    "docker CLI on Podman",
  ]);
  const rt0 = createRuntime("docker", new RecordingRunner(), root.chosen!) as DockerRuntime;
  assertEquals(rt0.runArgv(SPEC).slice(2, 4), ["--user", "1002:1002"]);
});
