/**
 * An adapter by engine name, and an engine name given by a person checked: all `venvoy run`
 * needs of the runtime layer. Apart from mod.ts, so a session loads the adapters without
 * runtime detection and its install advice (which only runtime-info and init need).
 */
import type { ProcessRunner } from "../process/mod.ts";
import { UsageError } from "../ui/errors.ts";
import { ApptainerRuntime, SingularityRuntime } from "./apptainer.ts";
import type { RuntimeProbe } from "./detect.ts";
import { DockerRuntime } from "./docker.ts";
import { PodmanRuntime } from "./podman.ts";
import { type ContainerRuntime, ENGINE_NAMES, type EngineName, isEngineName } from "./types.ts";

export function createRuntime(
  name: EngineName,
  runner: ProcessRunner,
  probe?: Pick<RuntimeProbe, "path" | "backend" | "rootless"> & { sifRoot?: string },
): ContainerRuntime {
  const binary = probe?.path ?? name;
  switch (name) {
    case "docker":
      return new DockerRuntime(runner, binary, {
        backend: probe?.backend,
        rootless: probe?.rootless,
      });
    case "podman":
      return new PodmanRuntime(runner, binary, { rootless: probe?.rootless });
    case "apptainer":
      return new ApptainerRuntime(runner, binary, { sifRoot: probe?.sifRoot });
    case "singularity":
      return new SingularityRuntime(runner, binary, { sifRoot: probe?.sifRoot });
  }
}

/** Validates an engine name given by a person (flag or VENVOY_ENGINE). */
export function parseEngine(value: string | undefined | null, source: string): EngineName | null {
  if (!value) return null;
  if (!isEngineName(value)) {
    throw new UsageError(`unknown engine '${value}' (from ${source})`, {
      hint: `use one of: ${ENGINE_NAMES.join(", ")}`,
    });
  }
  return value;
}
