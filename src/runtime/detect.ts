/**
 * What container runtimes are installed and usable, whether this is an HPC system, and
 * which runtime to use. Probes run in parallel and each is a cheap `version` call.
 */
import type { ProcessRunner } from "../process/mod.ts";
import { ENGINE_NAMES, type EngineName, isEngineName } from "./types.ts";

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
  forced: boolean;
  hpc: HpcVerdict;
  runtimes: RuntimeProbe[];
  platform: { os: string; arch: string };
}

const PROBE_TIMEOUT_MS = 5000;

export async function probeRuntimes(runner: ProcessRunner): Promise<RuntimeProbe[]> {
  const found = ENGINE_NAMES
    .map((name) => ({ name, path: runner.which(name) }))
    .filter((f): f is { name: EngineName; path: string } => f.path !== null);
  const probes = await Promise.all(found.map((f) => probeOne(runner, f.name, f.path)));
  const apptainer = probes.find((p) => p.name === "apptainer");
  const singularity = probes.find((p) => p.name === "singularity");
  if (apptainer && singularity) {
    const same = realPath(apptainer.path) === realPath(singularity.path);
    if (same) singularity.aliasOf = "apptainer";
  }
  return probes;
}

async function probeOne(
  runner: ProcessRunner,
  name: EngineName,
  path: string,
): Promise<RuntimeProbe> {
  const probe: RuntimeProbe = { name, path, version: null, usable: false, reason: null };
  try {
    switch (name) {
      case "docker":
        return await probeDocker(runner, probe);
      case "podman": {
        const res = await runner.run({
          cmd: [path, "version", "--format", "json"],
          timeoutMs: PROBE_TIMEOUT_MS,
        });
        if (res.timedOut) return unusable(probe, "`podman version` did not answer in 5 s");
        const client = safeJson(res.stdout)?.Client;
        probe.version = client?.Version ?? null;
        if (res.code !== 0) return unusable(probe, firstLine(res.stderr) || `exit ${res.code}`);
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

async function probeDocker(runner: ProcessRunner, probe: RuntimeProbe): Promise<RuntimeProbe> {
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
  if (socket && /(^|\/)podman(\/|\.sock$)/.test(socket)) {
    probe.backend = "podman";
    const res = await runner.run({
      cmd: [probe.path, "image", "ls", "-q", "--filter", "reference=venvoy.invalid/probe"],
      timeoutMs: PROBE_TIMEOUT_MS,
    });
    if (res.timedOut) return unusable(probe, "the Podman socket did not answer in 5 s");
    if (res.code !== 0) return unusable(probe, dockerFailure(res.stderr));
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
    return unusable(probe, dockerFailure(res.stderr));
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

/** Turns the docker client's complaint into a reason a person can act on. */
export function dockerFailure(stderr: string): string {
  if (/permission denied/i.test(stderr)) {
    return "permission denied on the Docker socket (add your user to the docker group, then log in again)";
  }
  if (/cannot connect|is the docker daemon running|no such file/i.test(stderr)) {
    return "the Docker daemon is not running (start Docker, or `sudo systemctl start docker`)";
  }
  return firstLine(stderr) || "the Docker daemon did not answer";
}

/** podman-docker installs /usr/bin/docker as a small script that execs podman. */
function isPodmanShim(path: string): boolean {
  try {
    const st = Deno.statSync(path);
    if (st.size > 4096) return false;
    const head = new TextDecoder().decode(Deno.readFileSync(path));
    return head.startsWith("#!") && /podman/.test(head);
  } catch {
    return false;
  }
}

function unusable(probe: RuntimeProbe, reason: string): RuntimeProbe {
  probe.usable = false;
  probe.reason = reason;
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
): { chosen: RuntimeProbe | null; reason: string } {
  if (forced) {
    const p = probes.find((x) => x.name === forced);
    if (!p) return { chosen: null, reason: `${forced} was asked for but is not installed` };
    if (!p.usable) {
      return { chosen: null, reason: `${forced} was asked for but is not usable: ${p.reason}` };
    }
    return { chosen: p, reason: `${forced} was asked for` };
  }
  const order = hpc.hpc ? HPC_ORDER : WORKSTATION_ORDER;
  const usable = probes.filter((p) => p.usable).sort((a, b) => rank(a, order) - rank(b, order));
  const chosen = usable[0] ?? null;
  const where = hpc.hpc
    ? `HPC system (${hpc.evidence[0]}): preferring ${order.join(" > ")}`
    : `workstation: preferring ${order.join(" > ")}`;
  if (!chosen) return { chosen: null, reason: `no usable container runtime (${where})` };
  const skipped = probes.filter((p) => !p.usable).map((p) => `${p.name} unusable`);
  const via = chosen.name === "docker" && chosen.backend === "podman"
    ? " (a docker CLI on Podman, ranked as podman)"
    : "";
  return {
    chosen,
    reason: `${where}; ${chosen.name}${via} is the best usable` +
      (skipped.length ? ` (${skipped.join(", ")})` : ""),
  };
}

export interface DetectOptions {
  /** From --engine or VENVOY_ENGINE; validated by the caller. */
  engine?: string | null;
  hostname?: string;
}

export async function detect(
  runner: ProcessRunner,
  options: DetectOptions = {},
): Promise<Detection> {
  const forcedName = options.engine || runner.env("VENVOY_ENGINE") || null;
  const forced = forcedName && isEngineName(forcedName) ? forcedName : null;
  const [runtimes, hostname] = [await probeRuntimes(runner), options.hostname ?? safeHostname()];
  const hpc = detectHpc((n) => runner.env(n), (p) => runner.which(p), hostname);
  const { chosen, reason } = chooseRuntime(runtimes, hpc, forced);
  return {
    runtime: chosen?.name ?? null,
    chosen,
    reason,
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
