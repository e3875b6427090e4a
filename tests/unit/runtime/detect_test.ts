import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { DenoRunner } from "../../../src/process/mod.ts";
import { chooseRuntime, detect, detectHpc, dockerProblem } from "../../../src/runtime/detect.ts";
import { resolveRuntime } from "../../../src/runtime/mod.ts";
import { RuntimeUnavailableError, UsageError } from "../../../src/ui/errors.ts";
import {
  DOCKER_DOWN,
  DOCKER_ON_PODMAN,
  DOCKER_REAL,
  PODMAN,
  stubBin,
} from "../../fakes/stub_bin.ts";

// A socket path that is not podman's, so the stubs decide, not this machine's docker.sock.
const runnerOn = (dir: string, env: Record<string, string> = {}) =>
  new DenoRunner({ env: { PATH: dir, DOCKER_HOST: "unix:///nonexistent/docker.sock", ...env } });

Deno.test("workstation: real docker beats podman and apptainer", async () => {
  const dir = await stubBin({
    docker: { stdout: DOCKER_REAL },
    podman: { stdout: PODMAN },
    apptainer: { stdout: "apptainer version 1.3.0" },
  });
  const d = await detect(runnerOn(dir), { hostname: "laptop" });
  assertEquals(d.runtime, "docker");
  assertEquals(d.hpc.hpc, false);
  assertEquals(d.runtimes.map((r) => [r.name, r.version, r.usable]), [
    ["docker", "27.3.1", true],
    ["podman", "4.9.3", true],
    ["apptainer", "1.3.0", true],
  ]);
  assertEquals(d.chosen?.path, join(dir, "docker"));
});

Deno.test("a docker CLI on a Podman socket is recognised as podman and ranks as podman", async () => {
  const dir = await stubBin({ docker: { stdout: DOCKER_ON_PODMAN }, podman: { stdout: PODMAN } });
  const d = await detect(runnerOn(dir), { hostname: "laptop" });
  assertEquals(d.runtimes[0].backend, "podman");
  assert(d.runtimes[0].reason?.includes("Podman Engine 4.3.1"));
  assertEquals(d.runtime, "podman", "native podman comes before docker-on-podman");
  const alone = await stubBin({ docker: { stdout: DOCKER_ON_PODMAN } });
  const d2 = await detect(runnerOn(alone), { hostname: "laptop" });
  assertEquals(d2.runtime, "docker");
  assert(d2.reason.includes("ranked as podman"), d2.reason);
});

Deno.test("a docker CLI whose socket is podman's: recognised without the slow /version", async () => {
  const sock = "unix:///run/user/1000/podman/podman.sock";
  const dir = await stubBin({
    docker: {
      stdout: DOCKER_REAL, // would say "real Docker" if /version were asked
      byArg: { "--version": { stdout: "Docker version 28.2.2, build e6534b4" }, image: {} },
    },
  });
  const d = await detect(runnerOn(dir, { DOCKER_HOST: sock }), { hostname: "x" });
  assertEquals([d.runtimes[0].backend, d.runtimes[0].usable], ["podman", true]);
  assertEquals(d.runtimes[0].version, "28.2.2");
  assert(d.runtimes[0].reason?.includes("/run/user/1000/podman/podman.sock"));
  const down = await stubBin({
    docker: {
      byArg: {
        "--version": { stdout: "Docker version 28.2.2, build e6534b4" },
        image: { code: 1, stderr: "Cannot connect to the Docker daemon at " + sock },
      },
    },
  });
  const d2 = await detect(runnerOn(down, { DOCKER_HOST: sock }), { hostname: "x" });
  assertEquals(d2.runtimes[0].usable, false);
  assert(d2.runtimes[0].reason?.includes("not running"));
  assertEquals(d2.runtime, null);
});

Deno.test("without DOCKER_HOST the current docker context's endpoint is used", async () => {
  const dir = await stubBin({
    docker: {
      stdout: DOCKER_REAL,
      byArg: { context: { stdout: "unix:///run/podman/podman.sock" }, image: {} },
    },
  });
  const d = await detect(new DenoRunner({ env: { PATH: dir, DOCKER_HOST: "" } }), {
    hostname: "x",
  });
  assertEquals(d.runtimes[0].backend, "podman");
});

Deno.test("the podman-docker shim script is recognised as podman", async () => {
  const dir = await stubBin({
    docker: { script: `#!/bin/sh\n[ -e /etc/containers/nodocker ] || true\nexec podman "$@"` },
    podman: { stdout: PODMAN },
  });
  const d = await detect(runnerOn(dir), { hostname: "x" });
  assertEquals(d.runtimes.find((r) => r.name === "docker")?.backend, "podman");
});

Deno.test("docker with its daemon down is unusable, with the reason, and not chosen", async () => {
  const dir = await stubBin({
    docker: {
      stdout: DOCKER_DOWN,
      stderr:
        "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?",
      code: 1,
    },
    podman: { stdout: PODMAN },
  });
  const d = await detect(runnerOn(dir), { hostname: "x" });
  const docker = d.runtimes.find((r) => r.name === "docker")!;
  assertEquals(docker.usable, false);
  assert(docker.reason?.includes("not running"), docker.reason ?? "");
  assertEquals(d.runtime, "podman");
});

Deno.test("docker refusing permission is unusable with advice", () => {
  const p = dockerProblem("permission denied while trying to connect to the Docker daemon socket");
  assert(p.reason.includes("docker group"), p.reason);
  assert(p.hint.includes("usermod -aG docker"), p.hint);
});

Deno.test("forced engine that is unusable or absent: exit 3; unknown name: usage error", async () => {
  const dir = await stubBin({ docker: { stdout: DOCKER_DOWN, stderr: "Cannot connect", code: 1 } });
  await assert.rejects(
    resolveRuntime(runnerOn(dir), { engine: "docker" }),
    (e) => e instanceof RuntimeUnavailableError && /asked for but is not usable/.test(e.message),
  );
  await assert.rejects(
    resolveRuntime(runnerOn(dir), { engine: "podman" }),
    (e) => e instanceof RuntimeUnavailableError && /not installed/.test(e.message),
  );
  await assert.rejects(
    resolveRuntime(runnerOn(dir, { VENVOY_ENGINE: "lxc" })),
    (e) => e instanceof UsageError && /VENVOY_ENGINE/.test(e.message),
  );
});

Deno.test("no runtime at all: exit-3 error with advice for every platform", async () => {
  const dir = await stubBin({});
  const err = await resolveRuntime(runnerOn(dir)).then(() => null, (e) => e);
  assert(err instanceof RuntimeUnavailableError);
  assertEquals(err.exitCode, 3);
  for (
    const p of [
      "Debian/Ubuntu",
      "Fedora/RHEL",
      "macOS",
      "Windows/WSL",
      "HPC cluster",
      "module load",
    ]
  ) {
    assert(err.hint?.includes(p), `advice mentions ${p}`);
  }
});

Deno.test("HPC job: apptainer > singularity > podman > docker", async () => {
  const dir = await stubBin({
    docker: { stdout: DOCKER_REAL },
    podman: { stdout: PODMAN },
    singularity: { stdout: "singularity-ce version 3.11.4" },
    apptainer: { stdout: "apptainer version 1.4.5" },
  });
  const d = await detect(runnerOn(dir, { SLURM_JOB_ID: "123" }), { hostname: "c42" });
  assertEquals(d.runtime, "apptainer");
  assertEquals([d.hpc.hpc, d.hpc.scheduler, d.hpc.inJob], [true, "slurm", true]);
  const noApptainer = await stubBin({
    docker: { stdout: DOCKER_REAL },
    podman: { stdout: PODMAN },
    singularity: { stdout: "singularity-ce version 3.11.4" },
  });
  const d2 = await detect(runnerOn(noApptainer, { PBS_JOBID: "9.pbs" }), { hostname: "x" });
  assertEquals([d2.runtime, d2.hpc.scheduler], ["singularity", "pbs"]);
});

Deno.test("a singularity that reports apptainer is marked as its alias", async () => {
  const dir = await stubBin({ singularity: { stdout: "apptainer version 1.4.5" } });
  const d = await detect(runnerOn(dir), { hostname: "x" });
  assertEquals(d.runtimes[0].aliasOf, "apptainer");
});

Deno.test("HPC evidence: schedulers on PATH and job variables; HOSTNAME is not evidence", () => {
  const none = () => null;
  const env = (vars: Record<string, string>) => (n: string) => vars[n];
  assertEquals(detectHpc(env({ HOSTNAME: "login01" }), none, "laptop").hpc, false);
  assertEquals(detectHpc(env({ LSB_JOBID: "7" }), none, "x").scheduler, "lsf");
  assertEquals(detectHpc(env({ SGE_ROOT: "/opt/sge", JOB_ID: "5" }), none, "x").inJob, true);
  assertEquals(detectHpc(env({ JOB_ID: "5" }), none, "x").hpc, false, "JOB_ID alone is too common");
  const sbatch = (p: string) => (p === "sbatch" ? "/usr/bin/sbatch" : null);
  const v = detectHpc(env({}), sbatch, "x");
  assertEquals([v.hpc, v.scheduler, v.inJob], [true, "slurm", false]);
  assertEquals(detectHpc(env({ SLURM_CLUSTER_NAME: "c" }), none, "x").scheduler, "slurm");
});

Deno.test("hostname patterns are a weak signal only, and say so", () => {
  const v = detectHpc(() => undefined, () => null, "login01.cluster.example.edu");
  assertEquals(v.hpc, false);
  assertEquals(v.weakSignals.length, 1);
  assert(v.weakSignals[0].includes("weak signal"));
  assertEquals(detectHpc(() => undefined, () => null, "my-laptop").weakSignals, []);
});

Deno.test("chooseRuntime explains itself", () => {
  const hpc = { hpc: false, scheduler: null, inJob: false, evidence: [], weakSignals: [] };
  const r = chooseRuntime(
    [
      { name: "docker", path: "/d", version: "1", usable: false, reason: "daemon down" },
      { name: "apptainer", path: "/a", version: "1", usable: true, reason: null },
    ],
    hpc,
    null,
  );
  assertEquals(r.chosen?.name, "apptainer");
  assert(r.reason.includes("docker unusable"), r.reason);
});
