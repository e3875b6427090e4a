import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { RecordingRunner } from "../../fakes/runner.ts";
import { detect } from "../../../src/runtime/detect.ts";
import { resolveRuntime } from "../../../src/runtime/mod.ts";

const everything = {
  docker: "/usr/bin/docker",
  podman: "/usr/bin/podman",
  apptainer: "/usr/bin/apptainer",
  singularity: "/usr/bin/singularity",
};

Deno.test("a forced engine (--engine, VENVOY_ENGINE) probes only its own program", async () => {
  for (
    const [engine, env] of [
      ["apptainer", {}],
      [null, { VENVOY_ENGINE: "apptainer" }],
    ] as const
  ) {
    const runner = new RecordingRunner({ paths: everything, env });
    runner.on(["/usr/bin/apptainer", "--version"], { stdout: "apptainer version 1.4.5\n" });
    const { runtime } = await resolveRuntime(runner, { engine });
    assertEquals(runtime.name, "apptainer");
    assertEquals(runner.argvs, [["/usr/bin/apptainer", "--version"]]);
  }
});

Deno.test("runtime-info's detect still probes every installed runtime when one is forced", async () => {
  const runner = new RecordingRunner({ paths: everything });
  runner.on(["/usr/bin/apptainer", "--version"], { stdout: "apptainer version 1.4.5\n" });
  const d = await detect(runner, { engine: "apptainer", hostname: "x" });
  assertEquals(d.runtimes.map((r) => r.name), ["docker", "podman", "apptainer", "singularity"]);
});
