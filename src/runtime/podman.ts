import type { ProcessRunner } from "../process/mod.ts";
import { OciCli, ociSandboxArgs } from "./oci.ts";
import type { RunSpec } from "./types.ts";

export class PodmanRuntime extends OciCli {
  readonly name = "podman" as const;
  readonly rootless: boolean;

  constructor(runner: ProcessRunner, binary = "podman", options: { rootless?: boolean } = {}) {
    super(runner, binary);
    this.rootless = options.rootless ?? (Deno.uid?.() ?? 0) !== 0;
  }

  /** --layers keeps intermediate images, so an unchanged rebuild is a cache hit. */
  protected override buildFlags(): string[] {
    return ["--layers"];
  }

  /** podman's own JSON form: one array (`{{json .}}` prints the same here). */
  protected override imagesFormat(): string {
    return "json";
  }

  protected override saveFlags(): string[] {
    return ["--format", "docker-archive"];
  }

  /** CDI: the NVIDIA Container Toolkit's generated spec names every GPU nvidia.com/gpu=all. */
  gpuArgs(): string[] {
    return ["--device", "nvidia.com/gpu=all"];
  }

  runArgv(spec: RunSpec): string[] {
    const argv = [this.binary, "run", "--rm"];
    if (spec.user) {
      // Rootless: keep-id maps the host user into the container. Rootful podman has no
      // user namespace to map, so run as the host uid:gid directly (never the :U option,
      // which chowns the host folder).
      if (this.rootless) argv.push("--userns=keep-id");
      else argv.push("--user", `${spec.user.uid}:${spec.user.gid}`);
    }
    if (spec.gpus) argv.push(...this.gpuArgs());
    argv.push(...ociSandboxArgs(spec.sandbox));
    argv.push(...this.commonRunFlags(spec), spec.image, ...spec.command);
    return argv;
  }
}
