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

  /**
   * Files written to the mounts belong to the host user. Rootful podman has no user
   * namespace to map, so the session runs as the host uid:gid. Rootless, `--user` alone is
   * a subordinate id on the host (the bind mounts look root-owned inside), so
   * `keep-id:uid=,gid=` (podman 4.3 and later) maps the host user onto these ids, and
   * `--user` still follows: without it the image's own USER (venvoy's images say
   * `USER venvoy`) wins over keep-id's default user, and the session cannot write its
   * mounts. Never the :U volume option, which chowns the host folder.
   */
  userArgs(user: { uid: number; gid: number }): string[] {
    const ids = ["--user", `${user.uid}:${user.gid}`];
    return this.rootless ? [`--userns=keep-id:uid=${user.uid},gid=${user.gid}`, ...ids] : ids;
  }

  runArgv(spec: RunSpec): string[] {
    const argv = [this.binary, "run", "--rm"];
    if (spec.user) argv.push(...this.userArgs(spec.user));
    if (spec.gpus) argv.push(...this.gpuArgs());
    argv.push(...ociSandboxArgs(spec.sandbox));
    argv.push(...this.commonRunFlags(spec), spec.image, ...spec.command);
    return argv;
  }
}
