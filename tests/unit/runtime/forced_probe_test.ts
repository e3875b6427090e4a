import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { RecordingRunner } from "../../fakes/runner.ts";
import { resolveRuntime } from "../../../src/runtime/mod.ts";

const everything = {
  docker: "/usr/bin/docker",
  podman: "/usr/bin/podman",
  apptainer: "/usr/bin/apptainer",
  singularity: "/usr/bin/singularity",
};

/**
 * `venvoy run` with a forced engine probes nothing (tests/unit/hpc/run_hpc_test.ts), but
 * init and import resolve the runtime with every installed one probed: `--engine apptainer
 * init` builds with podman and converts, so it must still see podman.
 */
Deno.test("resolveRuntime with a forced engine still sees the others (init's OCI helper)", async () => {
  const runner = new RecordingRunner({ paths: everything });
  runner.on(["/usr/bin/apptainer", "--version"], { stdout: "apptainer version 1.4.5\n" });
  runner.on(["/usr/bin/podman", "version"], { stdout: '{"Client":{"Version":"4.3.1"}}' });
  runner.on(["/usr/bin/docker", "--version"], { stdout: "Docker version 20.10.24\n" });
  runner.on(["/usr/bin/docker", "context", "inspect"], {
    stdout: "unix:///run/podman/podman.sock\n",
  });
  runner.on(["/usr/bin/docker", "image", "ls", "-q"], {}); // the daemon answers: no images
  runner.on(["/usr/bin/singularity", "--version"], { code: 127, stderr: "not found\n" });
  const { runtime, detection } = await resolveRuntime(runner, { engine: "apptainer" });
  assertEquals(runtime.name, "apptainer");
  assertEquals(detection.runtimes.map((r) => r.name), [
    "docker",
    "podman",
    "apptainer",
    "singularity",
  ]);
  assertEquals(detection.runtimes.find((r) => r.name === "podman")?.usable, true);
});
