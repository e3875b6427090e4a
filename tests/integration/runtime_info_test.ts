/**
 * `venvoy runtime-info` names the right runtime in each lab configuration. A configuration
 * is a PATH holding only links to the runtimes it has, run through the bundled product.
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { ignoreUnless, probe } from "./lab.ts";
import { venvoy } from "./cli.ts";

async function pathWith(programs: string[]): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "venvoy-path-" });
  for (const p of programs) {
    const found = probe(p as "docker")?.path;
    if (!found) throw new Error(`${p} is not available`);
    await Deno.symlink(found, join(dir, p));
  }
  return dir;
}

async function info(programs: string[], env: Record<string, string> = {}) {
  const PATH = await pathWith(programs);
  const home = await Deno.makeTempDir({ prefix: "venvoy-home-" });
  return await venvoy(["runtime-info", "--json"], {
    clearEnv: true,
    env: { PATH, HOME: home, ...env },
  });
}

Deno.test({
  name: "runtime-info: podman alone",
  ignore: ignoreUnless("podman"),
  fn: async () => {
    const r = await info(["podman"]);
    assertEquals(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assertEquals(j.runtime, "podman");
    assertEquals(j.hpc.detected, false);
    assertEquals(j.runtimes.map((x: { name: string }) => x.name), ["podman"]);
  },
});

Deno.test({
  name: "runtime-info: the docker CLI on the podman socket alone is docker, backed by podman",
  ignore: ignoreUnless("docker"),
  fn: async () => {
    const r = await info(["docker"], { DOCKER_HOST: "unix:///run/podman/podman.sock" });
    assertEquals(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assertEquals(j.runtime, "docker");
    assertEquals(j.runtimes[0].backend, "podman");
    assert(j.runtimes[0].reason.includes("docker CLI talking to Podman"), j.runtimes[0].reason);
  },
});

Deno.test({
  name: "runtime-info: apptainer alone (and singularity as its alias)",
  ignore: ignoreUnless("apptainer"),
  fn: async () => {
    const r = await info(["apptainer"]);
    assertEquals(r.code, 0, r.stderr);
    assertEquals(JSON.parse(r.stdout).runtime, "apptainer");
    const r2 = await info(["singularity"]);
    const j2 = JSON.parse(r2.stdout);
    assertEquals(j2.runtime, "singularity");
    assertEquals(j2.runtimes[0].alias_of, "apptainer");
  },
});

Deno.test({
  name: "runtime-info: every runtime on a workstation picks podman over docker-on-podman",
  ignore: ignoreUnless("podman") || ignoreUnless("docker") || ignoreUnless("apptainer"),
  fn: async () => {
    const r = await info(["docker", "podman", "apptainer"]);
    assertEquals(JSON.parse(r.stdout).runtime, "podman");
  },
});

Deno.test({
  name: "runtime-info: in an HPC job (SLURM variables) Apptainer wins, with the evidence",
  ignore: ignoreUnless("podman") || ignoreUnless("docker") || ignoreUnless("apptainer"),
  fn: async () => {
    const r = await info(["docker", "podman", "apptainer"], {
      SLURM_JOB_ID: "4242",
      SLURM_CLUSTER_NAME: "lab",
    });
    const j = JSON.parse(r.stdout);
    assertEquals(j.runtime, "apptainer");
    assertEquals([j.hpc.detected, j.hpc.scheduler, j.hpc.in_job], [true, "slurm", true]);
    assert(j.hpc.evidence.includes("SLURM_JOB_ID=4242"));
    const text = await venvoy(["runtime-info"], {
      env: { SLURM_JOB_ID: "4242" },
    });
    assert(text.stdout.includes("HPC:      yes, scheduler slurm, inside a job"), text.stdout);
  },
});

Deno.test({
  name: "runtime-info: a docker whose daemon is down is unusable, with the reason, not chosen",
  ignore: ignoreUnless("docker") || ignoreUnless("podman"),
  fn: async () => {
    const r = await info(["docker", "podman"], { DOCKER_HOST: "unix:///nonexistent/docker.sock" });
    const j = JSON.parse(r.stdout);
    const docker = j.runtimes.find((x: { name: string }) => x.name === "docker");
    assertEquals(docker.usable, false);
    assert(/not running/.test(docker.reason), docker.reason);
    assertEquals(j.runtime, "podman");
    const forced = await info(["docker", "podman"], {
      DOCKER_HOST: "unix:///nonexistent/docker.sock",
      VENVOY_ENGINE: "docker",
    });
    assertEquals(forced.code, 3);
    assert(forced.stderr.includes("venvoy: error: docker was asked for but is not usable"));
  },
});

Deno.test("runtime-info: no runtime at all exits 3 with install advice", async () => {
  const r = await info([]);
  assertEquals(r.code, 3);
  assertEquals(JSON.parse(r.stdout).runtime, null);
  assert(r.stderr.startsWith("venvoy: error: no usable container runtime"), r.stderr);
  for (
    const p of ["Debian/Ubuntu", "Fedora/RHEL", "macOS", "Windows/WSL", "module load apptainer"]
  ) {
    assert(r.stderr.includes(p), p);
  }
});

Deno.test("the bundled product: --version, --help with examples, usage errors exit 2", async () => {
  const denoJson = JSON.parse(
    await Deno.readTextFile(new URL("../../deno.json", import.meta.url)),
  );
  const v = await venvoy(["--version"]);
  assertEquals([v.code, v.stdout.trim()], [0, denoJson.version]);
  const h = await venvoy(["runtime-info", "--help"]);
  assertEquals(h.code, 0);
  assert(h.stdout.includes("Examples:"));
  const bad = await venvoy(["runtime-info", "--frobnicate"]);
  assertEquals(bad.code, 2);
  assertEquals(
    bad.stderr,
    "venvoy: error: unknown option '--frobnicate'\nhint: see 'venvoy runtime-info --help'\n",
  );
  const comp = await venvoy(["completions", "bash"]);
  assertEquals(comp.code, 0, comp.stderr);
  assert(comp.stdout.includes("venvoy"), "a bash completion script");
});
