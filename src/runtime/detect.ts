/**
 * What container runtimes are installed and usable, whether this is an HPC system, and
 * which runtime to use. Probes run in parallel and each is a cheap `version` call.
 */
import type { ProcessRunner } from "../process/mod.ts";
import { engineRunsAsThisUser, isPodmanShim } from "./docker.ts";
import { ENGINE_NAMES, type EngineName, isEngineName } from "./types.ts";

/** What a person would call the engine found: which program, and which engine behind it. */
export type EngineConfiguration =
  | "podman (rootful)"
  | "podman (rootless)"
  | "Docker Engine"
  | "docker CLI on Podman"
  | "docker CLI on rootless Podman"
  | "Apptainer"
  | "Singularity";

export interface RuntimeProbe {
  name: EngineName;
  path: string;
  version: string | null;
  usable: boolean;
  /** Why it is not usable, or a note (e.g. "docker CLI talking to Podman Engine 4.3.1"). */
  reason: string | null;
  /** For docker: the engine really answering. "podman" for the shim or a Podman socket. */
  backend?: "docker" | "podman";
  /** For singularity: the same program as apptainer (a link, or it reports apptainer). */
  aliasOf?: EngineName;
  /** The configuration by its usual name ("podman (rootless)", "Docker Engine", ...). */
  configuration?: EngineConfiguration;
  /**
   * For podman: it runs in a user namespace of this (non-root) user. For docker: so does
   * the engine behind it (a rootless Podman socket or the shim run by a user).
   */
  rootless?: boolean;
  /** When not usable: the next step that fixes it, when venvoy knows one. */
  hint?: string;
}

/** A reason an engine is not usable, and what fixes it. */
export interface Problem {
  reason: string;
  hint: string;
}

/**
 * The facts about this host that rootless podman depends on. Read without spawning
 * anything (podman info would tell most of it, at 0.4 s against 0.03 s for `podman
 * version`, measured; runtime-info has a 0.5 s budget). Tests give their own.
 */
export interface HostFacts {
  os: string;
  /** null where there are no uids (Windows). */
  uid: number | null;
  user: string | null;
  readText(path: string): string | null;
  /** Whether this user may open the device for reading and writing. */
  canOpen(path: string): boolean;
}

export function realHost(runner: ProcessRunner): HostFacts {
  return {
    os: Deno.build.os,
    uid: Deno.uid?.() ?? null,
    user: runner.env("USER") || runner.env("LOGNAME") || null,
    readText: (path) => {
      try {
        return Deno.readTextFileSync(path);
      } catch {
        return null;
      }
    },
    canOpen: (path) => {
      try {
        Deno.openSync(path, { read: true, write: true }).close();
        return true;
      } catch {
        return false;
      }
    },
  };
}

export type Scheduler = "slurm" | "pbs" | "lsf" | "sge";

export interface HpcVerdict {
  hpc: boolean;
  scheduler: Scheduler | null;
  inJob: boolean;
  /** Facts that make the verdict. */
  evidence: string[];
  /** Hints that do not decide anything on their own (hostname patterns). */
  weakSignals: string[];
}

export interface Detection {
  runtime: EngineName | null;
  /** The probe of the chosen runtime, if any. */
  chosen: RuntimeProbe | null;
  reason: string;
  /** When nothing is chosen: the steps that would make an installed engine usable. */
  hint?: string | null;
  forced: boolean;
  hpc: HpcVerdict;
  runtimes: RuntimeProbe[];
  platform: { os: string; arch: string };
}

const PROBE_TIMEOUT_MS = 5000;

export async function probeRuntimes(
  runner: ProcessRunner,
  host: HostFacts = realHost(runner),
): Promise<RuntimeProbe[]> {
  const found = ENGINE_NAMES
    .map((name) => ({ name, path: runner.which(name) }))
    .filter((f): f is { name: EngineName; path: string } => f.path !== null);
  const probes = await Promise.all(found.map((f) => probeOne(runner, f.name, f.path, host)));
  const apptainer = probes.find((p) => p.name === "apptainer");
  const singularity = probes.find((p) => p.name === "singularity");
  if (apptainer && singularity) {
    const same = realPath(apptainer.path) === realPath(singularity.path);
    if (same) singularity.aliasOf = "apptainer";
  }
  for (const p of probes) p.configuration = configurationOf(p);
  return probes;
}

/** The name runtime-info shows for a probe. */
export function configurationOf(p: RuntimeProbe): EngineConfiguration {
  switch (p.name) {
    case "podman":
      return p.rootless ? "podman (rootless)" : "podman (rootful)";
    case "docker":
      if (p.backend !== "podman") return "Docker Engine";
      return p.rootless ? "docker CLI on rootless Podman" : "docker CLI on Podman";
    case "apptainer":
      return "Apptainer";
    case "singularity":
      return p.aliasOf === "apptainer" ? "Apptainer" : "Singularity";
  }
}

async function probeOne(
  runner: ProcessRunner,
  name: EngineName,
  path: string,
  host: HostFacts,
): Promise<RuntimeProbe> {
  const probe: RuntimeProbe = { name, path, version: null, usable: false, reason: null };
  try {
    switch (name) {
      case "docker":
        return await probeDocker(runner, probe, host);
      case "podman": {
        const res = await runner.run({
          cmd: [path, "version", "--format", "json"],
          timeoutMs: PROBE_TIMEOUT_MS,
        });
        if (res.timedOut) return unusable(probe, "`podman version` did not answer in 5 s");
        const client = safeJson(res.stdout)?.Client;
        probe.version = client?.Version ?? null;
        if (res.code !== 0) return unusable(probe, firstLine(res.stderr) || `exit ${res.code}`);
        probe.rootless = host.uid !== null && host.uid !== 0;
        // On macOS and Windows podman talks to its machine (a VM), as does CONTAINER_HOST.
        const local = host.os === "linux" && !runner.env("CONTAINER_HOST");
        const problem = probe.rootless && local ? rootlessProblem(host, runner) : null;
        if (problem) return unusable(probe, problem);
        probe.usable = true;
        return probe;
      }
      case "apptainer":
      case "singularity": {
        const res = await runner.run({ cmd: [path, "--version"], timeoutMs: PROBE_TIMEOUT_MS });
        if (res.timedOut) return unusable(probe, `\`${name} --version\` did not answer in 5 s`);
        if (res.code !== 0) return unusable(probe, firstLine(res.stderr) || `exit ${res.code}`);
        const m = res.stdout.match(/^(\S+)\s+version\s+(\S+)/m);
        probe.version = m?.[2] ?? (res.stdout.trim() || null);
        if (name === "singularity" && m?.[1] === "apptainer") {
          probe.aliasOf = "apptainer";
          probe.reason = "this singularity is Apptainer under another name";
        }
        probe.usable = true;
        return probe;
      }
    }
  } catch (e) {
    return unusable(probe, `could not run ${path}: ${(e as Error).message}`);
  }
}

async function probeDocker(
  runner: ProcessRunner,
  probe: RuntimeProbe,
  host: HostFacts,
): Promise<RuntimeProbe> {
  if (isPodmanShim(probe.path)) probe.backend = "podman";
  const [client, endpoint] = await Promise.all([
    runner.run({ cmd: [probe.path, "--version"], timeoutMs: PROBE_TIMEOUT_MS }),
    dockerEndpoint(runner, probe.path),
  ]);
  probe.version = client.stdout.match(/version\s+([^\s,]+)/i)?.[1] ?? null;
  // Podman answers /version slowly (it runs runc and conmon to fill it in). A socket that
  // resolves into podman's run directory already says who serves it, so a cheap call
  // checks that it answers; any other socket gets the authoritative `docker version`.
  const socket = endpoint.startsWith("unix://") ? realPath(endpoint.slice(7)) : null;
  // Whose engine it is decides the session's user (DockerRuntime.userArgs): a stat.
  if (engineRunsAsThisUser(runner, probe.path, { endpoint, uid: host.uid })) {
    probe.rootless = true;
  }
  if (socket && /(^|\/)podman(\/|\.sock$)/.test(socket)) {
    probe.backend = "podman";
    const res = await runner.run({
      cmd: [probe.path, "image", "ls", "-q", "--filter", "reference=venvoy.invalid/probe"],
      timeoutMs: PROBE_TIMEOUT_MS,
    });
    if (res.timedOut) return unusable(probe, "the Podman socket did not answer in 5 s");
    if (res.code !== 0) return unusable(probe, podmanSocketProblem(res.stderr, socket, endpoint));
    probe.reason = `docker CLI talking to Podman (${socket})`;
    probe.usable = true;
    return probe;
  }
  const res = await runner.run({
    cmd: [probe.path, "version", "--format", "{{json .}}"],
    timeoutMs: PROBE_TIMEOUT_MS,
  });
  if (res.timedOut) return unusable(probe, "`docker version` did not answer in 5 s");
  const data = safeJson(res.stdout);
  probe.version = data?.Client?.Version ?? probe.version;
  const components: { Name?: string; Version?: string }[] = data?.Server?.Components ?? [];
  const podmanEngine = components.find((c) => /podman/i.test(c.Name ?? ""));
  if (podmanEngine) {
    probe.backend = "podman";
    probe.reason = `docker CLI talking to Podman Engine ${podmanEngine.Version ?? ""}`.trim();
  } else if (probe.backend === "podman") {
    probe.reason = "docker is the podman-docker shim";
  } else {
    probe.backend = "docker";
  }
  if (res.code !== 0 || (data && data.Server == null && probe.backend === "docker")) {
    return unusable(probe, dockerProblem(res.stderr, endpoint));
  }
  probe.usable = true;
  return probe;
}

/** Where the docker CLI will connect: DOCKER_HOST, else the current context's endpoint. */
async function dockerEndpoint(runner: ProcessRunner, docker: string): Promise<string> {
  const fromEnv = runner.env("DOCKER_HOST");
  if (fromEnv) return fromEnv;
  const res = await runner.run({
    cmd: [docker, "context", "inspect", "--format", "{{.Endpoints.docker.Host}}"],
    timeoutMs: PROBE_TIMEOUT_MS,
  });
  const host = res.code === 0 ? res.stdout.trim() : "";
  return host.includes("://") ? host : "unix:///var/run/docker.sock";
}

/** Turns the docker client's complaint into a reason and the step that fixes it. */
export function dockerProblem(stderr: string, endpoint = "the Docker socket"): Problem {
  const socket = endpoint.replace(/^unix:\/\//, "");
  if (/permission denied/i.test(stderr)) {
    return {
      reason: `permission denied on ${socket} (your user is not in the docker group)`,
      hint: "sudo usermod -aG docker $USER, then log out and in again (or run `newgrp docker`)",
    };
  }
  if (/cannot connect|is the docker daemon running|no such file|connection refused/i.test(stderr)) {
    return {
      reason: `the Docker daemon is not running (nothing answers on ${socket})`,
      hint: "start it (`sudo systemctl start docker`, or Docker Desktop), or point DOCKER_HOST " +
        "at a running one",
    };
  }
  return {
    reason: firstLine(stderr) || "the Docker daemon did not answer",
    hint: "check `docker version`; DOCKER_HOST or `docker context ls` name the daemon used",
  };
}

/** A Podman socket the docker CLI cannot use: the docker group does not open root's. */
function podmanSocketProblem(stderr: string, socket: string, endpoint: string): Problem {
  if (!/permission denied/i.test(stderr)) return dockerProblem(stderr, endpoint);
  return {
    reason: `permission denied on ${socket} (rootful Podman's socket: root's own)`,
    hint: "use podman itself (rootless), or your own socket: systemctl --user start " +
      "podman.socket; export DOCKER_HOST=unix://$XDG_RUNTIME_DIR/podman/podman.sock",
  };
}

/**
 * What keeps rootless podman from working for this user, checked as podman would meet it:
 * a subordinate id range to map the image's users into, /dev/net/tun for its network
 * (slirp4netns), and /dev/fuse when its storage is fuse-overlayfs.
 */
export function rootlessProblem(host: HostFacts, runner: ProcessRunner): Problem | null {
  const who = host.user ?? String(host.uid);
  for (const file of ["/etc/subuid", "/etc/subgid"]) {
    if (!hasSubordinateRange(host.readText(file) ?? "", host)) {
      return {
        reason: `no ${file.slice(5)} range for ${who} in ${file} (rootless podman maps the ` +
          `image's users into one)`,
        hint: `an administrator runs: sudo usermod --add-subuids 100000-165535 ` +
          `--add-subgids 100000-165535 ${who}; then: podman system migrate`,
      };
    }
  }
  if (!host.canOpen("/dev/net/tun")) {
    return {
      reason: `/dev/net/tun is not usable by ${who} (rootless podman's network, ` +
        "slirp4netns, opens it)",
      hint: "an administrator runs: sudo chmod 0666 /dev/net/tun (its usual mode)",
    };
  }
  if (usesFuseOverlay(host, runner) && !host.canOpen("/dev/fuse")) {
    return {
      reason: `/dev/fuse is not usable by ${who} (podman's storage is fuse-overlayfs)`,
      hint: "an administrator runs: sudo chmod 0666 /dev/fuse (its usual mode)",
    };
  }
  return null;
}

function hasSubordinateRange(text: string, host: HostFacts): boolean {
  return text.split("\n").some((line) => {
    const [owner, , count] = line.trim().split(":");
    const mine = owner === host.user || (host.uid !== null && owner === String(host.uid));
    return mine && Number(count) > 0;
  });
}

/** podman's storage.conf, the user's before the system's, names fuse-overlayfs. */
function usesFuseOverlay(host: HostFacts, runner: ProcessRunner): boolean {
  const config = runner.env("XDG_CONFIG_HOME") ||
    (runner.env("HOME") ? `${runner.env("HOME")}/.config` : null);
  const files = [
    ...(config ? [`${config}/containers/storage.conf`] : []),
    "/etc/containers/storage.conf",
  ];
  for (const f of files) {
    const text = host.readText(f);
    if (text !== null) return /^\s*mount_program\s*=.*fuse-overlayfs/m.test(text);
  }
  return false;
}

function unusable(probe: RuntimeProbe, why: string | Problem): RuntimeProbe {
  probe.usable = false;
  probe.reason = typeof why === "string" ? why : why.reason;
  if (typeof why !== "string") probe.hint = why.hint;
  return probe;
}

const HPC_HOST = /(^|[^a-z])(login|compute|node|hpc|cluster)(\d|[^a-z]|$)/i;

export function detectHpc(
  env: (name: string) => string | undefined,
  which: (program: string) => string | null,
  hostname: string,
): HpcVerdict {
  const evidence: string[] = [];
  const weakSignals: string[] = [];
  let scheduler: Scheduler | null = null;
  let inJob = false;
  const note = (s: Scheduler, fact: string, job = false) => {
    evidence.push(fact);
    scheduler ??= s;
    if (job) inJob = true;
  };
  for (const v of ["SLURM_JOB_ID", "SLURM_CLUSTER_NAME"]) {
    if (env(v)) note("slurm", `${v}=${env(v)}`, v === "SLURM_JOB_ID");
  }
  if (env("PBS_JOBID")) note("pbs", `PBS_JOBID=${env("PBS_JOBID")}`, true);
  if (env("LSB_JOBID")) note("lsf", `LSB_JOBID=${env("LSB_JOBID")}`, true);
  if (env("SGE_ROOT")) note("sge", `SGE_ROOT=${env("SGE_ROOT")}`);
  // JOB_ID is a common name: it counts for SGE only beside other SGE evidence.
  if (env("JOB_ID") && (env("SGE_ROOT") || env("SGE_CELL") || env("SGE_TASK_ID"))) {
    note("sge", `JOB_ID=${env("JOB_ID")}`, true);
  }
  const bins: [string, Scheduler][] = [["sbatch", "slurm"], ["bsub", "lsf"], ["qsub", "pbs"]];
  for (const [bin, s] of bins) {
    const p = which(bin);
    if (p) note(bin === "qsub" && env("SGE_ROOT") ? "sge" : s, `${bin} on PATH (${p})`);
  }
  if (HPC_HOST.test(hostname)) {
    weakSignals.push(
      `hostname '${hostname}' looks like a cluster node (a weak signal: not enough on its own)`,
    );
  }
  return { hpc: evidence.length > 0, scheduler, inJob, evidence, weakSignals };
}

const WORKSTATION_ORDER: EngineName[] = ["docker", "podman", "apptainer", "singularity"];
const HPC_ORDER: EngineName[] = ["apptainer", "singularity", "podman", "docker"];

/** The runtime's place in the preference order; a Podman-backed docker ranks as podman. */
function rank(p: RuntimeProbe, order: EngineName[]): number {
  const as = p.name === "docker" && p.backend === "podman" ? "podman" : p.name;
  // Within the same slot the native program comes before the one talking through it.
  return order.indexOf(as) * 2 + (as !== p.name ? 1 : 0);
}

export function chooseRuntime(
  probes: RuntimeProbe[],
  hpc: HpcVerdict,
  forced: EngineName | null,
): { chosen: RuntimeProbe | null; reason: string; hint: string | null } {
  if (forced) {
    const p = probes.find((x) => x.name === forced);
    if (!p) {
      return { chosen: null, reason: `${forced} was asked for but is not installed`, hint: null };
    }
    if (!p.usable) {
      return {
        chosen: null,
        reason: `${forced} was asked for but is not usable: ${p.reason}`,
        hint: p.hint ?? null,
      };
    }
    return { chosen: p, reason: `${forced} was asked for`, hint: null };
  }
  const order = hpc.hpc ? HPC_ORDER : WORKSTATION_ORDER;
  const usable = probes.filter((p) => p.usable).sort((a, b) => rank(a, order) - rank(b, order));
  const chosen = usable[0] ?? null;
  const where = hpc.hpc
    ? `HPC system (${hpc.evidence[0]}): preferring ${order.join(" > ")}`
    : `workstation: preferring ${order.join(" > ")}`;
  if (!chosen) {
    const fixes = probes.filter((p) => p.hint).map((p) => `${p.name}: ${p.hint}`);
    return {
      chosen: null,
      reason: `no usable container runtime (${where})`,
      hint: fixes.length ? fixes.join("\n") : null,
    };
  }
  const skipped = probes.filter((p) => !p.usable).map((p) => `${p.name} unusable`);
  const via = chosen.name === "docker" && chosen.backend === "podman"
    ? " (a docker CLI on Podman, ranked as podman)"
    : "";
  return {
    chosen,
    reason: `${where}; ${chosen.name}${via} is the best usable` +
      (skipped.length ? ` (${skipped.join(", ")})` : ""),
    hint: null,
  };
}

export interface DetectOptions {
  /** From --engine or VENVOY_ENGINE; validated by the caller. */
  engine?: string | null;
  hostname?: string;
  /** Tests: this host's uid, user, files and devices. */
  host?: HostFacts;
}

export async function detect(
  runner: ProcessRunner,
  options: DetectOptions = {},
): Promise<Detection> {
  const forcedName = options.engine || runner.env("VENVOY_ENGINE") || null;
  const forced = forcedName && isEngineName(forcedName) ? forcedName : null;
  const runtimes = await probeRuntimes(runner, options.host);
  const hostname = options.hostname ?? safeHostname();
  const hpc = detectHpc((n) => runner.env(n), (p) => runner.which(p), hostname);
  const { chosen, reason, hint } = chooseRuntime(runtimes, hpc, forced);
  return {
    runtime: chosen?.name ?? null,
    chosen,
    reason,
    hint,
    forced: forced !== null,
    hpc,
    runtimes,
    platform: { os: Deno.build.os, arch: Deno.build.arch },
  };
}

function safeHostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "";
  }
}

// deno-lint-ignore no-explicit-any
function safeJson(s: string): any {
  try {
    return JSON.parse(s);
  } catch {
    return null;
  }
}

function firstLine(s: string): string {
  return s.trim().split("\n")[0]?.trim() ?? "";
}

function realPath(p: string): string {
  try {
    return Deno.realPathSync(p);
  } catch {
    return p;
  }
}
