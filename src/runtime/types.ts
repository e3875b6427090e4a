/** The one interface every container engine adapter implements. */

export type EngineName = "docker" | "podman" | "apptainer" | "singularity";
export const ENGINE_NAMES: readonly EngineName[] = ["docker", "podman", "apptainer", "singularity"];

export function isEngineName(s: string): s is EngineName {
  return (ENGINE_NAMES as readonly string[]).includes(s);
}

export interface BuildRequest {
  /** Build context folder. */
  contextDir: string;
  /** Dockerfile (docker/podman) or Apptainer definition file (apptainer/singularity). */
  file: string;
  /** Image tag (docker/podman) or output SIF path (apptainer/singularity). */
  tag: string;
  labels?: Record<string, string>;
  buildArgs?: Record<string, string>;
  /** "none": build with networking disabled (proves an offline rebuild). */
  network?: "none";
  noCache?: boolean;
  /** Where the full build log goes; a failure shows its tail and this path. */
  logPath?: string;
}

export interface ImageInfo {
  /** Image ID, "sha256:<hex>" (the config digest: stable across save/load). SIF: sha256 of the file. */
  id: string;
  /** Repository digests ("repo@sha256:…"); empty for local-only images. */
  digests: string[];
  labels: Record<string, string>;
  architecture: string;
  os: string;
  size: number | null;
  created: string | null;
}

export interface Mount {
  source: string;
  target: string;
  readOnly?: boolean;
}

export interface RunSpec {
  /** Image reference (docker/podman) or SIF path (apptainer/singularity). */
  image: string;
  /** argv inside the container; empty means the image's default command. */
  command: string[];
  mounts?: Mount[];
  env?: Record<string, string>;
  workdir?: string;
  /** Run as this host user so files written to mounts belong to them. */
  user?: { uid: number; gid: number };
  /** Allocate a terminal. Only when venvoy's own stdin and stdout are terminals. */
  tty?: boolean;
  /** Keep stdin attached. */
  interactive?: boolean;
  /** Container name, so it can be found and cleaned up. */
  name?: string;
  labels?: Record<string, string>;
  network?: "none";
  /** Apptainer: do not mount the host home directory. */
  noHome?: boolean;
  /**
   * Make the host's NVIDIA GPUs reachable: apptainer --nv, podman --device
   * nvidia.com/gpu=all (CDI), docker --gpus all.
   */
  gpus?: boolean;
  /**
   * Run a stranger's code (verify's re-runs): no network unless asked for, nothing of the
   * host but the mounts given, no privileges, limits on memory, processes and time.
   */
  sandbox?: Sandbox;
  /** Writable overlay or extra engine arguments are deliberately not exposed here. */
}

/** How a sandboxed run is confined (RunSpec.sandbox); each adapter maps it to its flags. */
export interface Sandbox {
  /** true: the engine's default network (verify --network); false: none at all. */
  network: boolean;
  /** Memory limit in the engines' own form ("2g"); null: no limit asked for. */
  memory: string | null;
  /** Most processes (and threads) at once; null: no limit asked for. */
  pids: number | null;
  /** Wall-clock limit: venvoy kills the engine (and the container) after this long. */
  timeoutMs: number | null;
  /** The host folder the engine is started in (Apptainer binds nothing else of the host). */
  hostCwd: string;
}

export interface ContainerInfo {
  id: string;
  name: string;
  image: string;
  status: string;
  labels: Record<string, string>;
}

export type ArchiveKind = "docker-archive" | "oci-archive" | "sif";

/** The label on every image and container venvoy creates. */
export const MANAGED_LABELS: Readonly<Record<string, string>> = { "org.venvoy.managed": "true" };

/**
 * The owner key on every image venvoy builds (src/env/owner.ts): which user and which
 * VENVOY_HOME built it. uninstall and delete match it, never MANAGED_LABELS alone.
 */
export const OWNER_LABEL = "org.venvoy.owner";

export interface ImageSummary {
  /** "sha256:<hex>" for docker/podman; for a SIF file, its absolute path. */
  id: string;
  /** Names that refer to it ("repo:tag"), or the SIF path; empty for an untagged image. */
  refs: string[];
  labels: Record<string, string>;
  size: number | null;
}

export interface ContainerRuntime {
  readonly name: EngineName;
  /** The program run: a name on PATH or an absolute path. */
  readonly binary: string;
  /** docker/podman keep images in their store; apptainer/singularity build SIF files. */
  readonly produces: "image" | "sif";

  build(req: BuildRequest): Promise<void>;
  /** null when the image (or SIF file) does not exist. */
  inspect(ref: string): Promise<ImageInfo | null>;
  /** Runs to completion and returns the command's exit code. */
  run(spec: RunSpec): Promise<number>;
  /**
   * The run flags that make the host's GPUs reachable (RunSpec.gpus): apptainer --nv, podman
   * nvidia.com/gpu=all (CDI), docker --gpus all. Also what an editor's container is given.
   */
  gpuArgs(): string[];
  /** Writes the image to a file: a docker-archive, or for SIF engines a copy of the SIF. */
  save(ref: string, archivePath: string): Promise<ArchiveKind>;
  /**
   * Brings an archive in so that `target` names it: a tag for docker/podman (optional;
   * the loaded reference is returned), the SIF path to build for apptainer/singularity.
   */
  load(
    archivePath: string,
    options?: { target?: string; kind?: ArchiveKind; expectId?: string },
  ): Promise<string>;
  remove(ref: string): Promise<void>;
  /** Pulls `ref` into the engine's store; false when that failed (or there is no store). */
  pull(ref: string): Promise<boolean>;
  /**
   * Stops and removes a container (`rm -f`); a missing one is no error. `ignoreMissing`
   * adds podman's own --ignore (used where the container may never have started).
   */
  removeContainer(ref: string, options?: { ignoreMissing?: boolean }): Promise<void>;
  /** The argv that writes a docker-archive of `ref` to stdout (engines with a store). */
  saveToStdoutArgv(ref: string): string[];
  /** Containers (or Apptainer instances) carrying all these labels. */
  listContainers(labels?: Record<string, string>): Promise<ContainerInfo[]>;
  /**
   * Images carrying all these labels. Apptainer/Singularity keep no image store: their
   * images are the SIF files in venvoy's environment folders.
   */
  listImages(labels?: Record<string, string>): Promise<ImageSummary[]>;
}
