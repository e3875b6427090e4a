/** Shared helpers for integration tests: which real runtimes the lab offers. */
import { join } from "node:path";
import { DenoRunner } from "../../src/process/mod.ts";
import { probeRuntimes, type RuntimeProbe } from "../../src/runtime/detect.ts";

export const LAB_DEBIAN = "localhost/venvoy-lab/debian:bookworm";
export const LAB_PYTHON = "localhost/venvoy-lab/python:3.11";
export const LAB_R = "localhost/venvoy-lab/r:4.2";

export const runner = new DenoRunner();
const probes = await probeRuntimes(runner);

export function probe(name: RuntimeProbe["name"]): RuntimeProbe | undefined {
  return probes.find((p) => p.name === name && p.usable);
}

async function imagePresent(ref: string): Promise<boolean> {
  if (!probe("podman")) return false;
  const res = await runner.run({ cmd: ["podman", "image", "exists", ref] });
  return res.code === 0;
}

export const hasLabImage = await imagePresent(LAB_DEBIAN);

/** Why a test for this engine must be skipped, or null when it can run. Printed once. */
export function skipReason(name: RuntimeProbe["name"]): string | null {
  const p = probes.find((x) => x.name === name);
  if (!p) return `${name} is not installed (run tests/lab/setup.sh)`;
  if (!p.usable) return `${name} is not usable: ${p.reason}`;
  if (!hasLabImage) return `lab image ${LAB_DEBIAN} is missing (run tests/lab/setup.sh)`;
  return null;
}

const announced = new Set<string>();
export function ignoreUnless(name: RuntimeProbe["name"]): boolean {
  const why = skipReason(name);
  if (why && !announced.has(name)) {
    announced.add(name);
    console.error(`SKIP ${name} integration tests: ${why}`);
  }
  return why !== null;
}

export async function tempDir(prefix: string): Promise<string> {
  return await Deno.makeTempDir({ prefix: `venvoy-it-${prefix}-` });
}

/**
 * The engine configurations users have (tests/lab/setup.sh): a real Docker Engine on its own
 * socket, used by root and by a member of group docker, and rootless podman for a user of
 * its own. Each test runs as that configuration's user.
 */
export const LAB_DOCKER_SOCK = Deno.env.get("VENVOY_LAB_DOCKER_SOCK") ??
  "/run/lab-docker/docker.sock";
export const LAB_DOCKER_USER = Deno.env.get("VENVOY_LAB_DOCKER_USER") ?? "venvoydock";
export const LAB_ROOTLESS_USER = Deno.env.get("VENVOY_LAB_ROOTLESS_USER") ?? "venvoyrl";

export interface LabUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** A user of the lab from the passwd database, or null when there is none. */
/**
 * The variables of a clean session for `user` (root when null) in its own test home: venvoy's
 * state under that home, no colour, and the CA bundle of .ci/run; `extra` wins.
 */
export function homeEnv(
  home: string,
  user: LabUser | null,
  options: { path: string; extra?: Record<string, string> },
): Record<string, string> {
  return {
    HOME: home,
    USER: user?.name ?? "root",
    LOGNAME: user?.name ?? "root",
    PATH: options.path,
    LANG: "C.UTF-8",
    NO_COLOR: "1",
    DENO_NO_UPDATE_CHECK: "1",
    VENVOY_HOME: join(home, "state"),
    VENVOY_PROJECTS: join(home, "projects"),
    XDG_CACHE_HOME: join(home, "cache"),
    ...(Deno.env.get("SSL_CERT_FILE") ? { SSL_CERT_FILE: Deno.env.get("SSL_CERT_FILE")! } : {}),
    ...options.extra,
  };
}

export async function labUser(name: string): Promise<LabUser | null> {
  const res = await runner.run({ cmd: ["getent", "passwd", name] });
  const f = res.stdout.trim().split(":");
  if (res.code !== 0 || f.length < 7) return null;
  return { name, uid: Number(f[2]), gid: Number(f[3]), home: f[5] };
}

/**
 * Runs argv as `user` (root itself when null) with only `env` set, as a login would: the
 * environment of the test process does not leak into the configuration under test.
 */
export async function runAs(
  user: LabUser | null,
  argv: string[],
  opts: {
    env?: Record<string, string>;
    cwd?: string;
    /** Fed on stdin (a pipe); otherwise stdin is /dev/null. */
    input?: string;
    /** Kill it after this long (a hang fails the test instead of stopping the run). */
    timeoutMs?: number;
  } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const pairs = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`);
  const prefix = user ? ["runuser", "-u", user.name, "--"] : [];
  const res = await runner.run({
    cmd: [...prefix, "env", "-i", ...pairs, ...argv],
    cwd: opts.cwd,
    input: opts.input,
    timeoutMs: opts.timeoutMs,
  });
  return { code: res.code, stdout: res.stdout, stderr: res.stderr };
}

/**
 * argv run under a pseudo-terminal (util-linux `script`): a program that asks "is stdin a
 * terminal?" is told yes, and what is fed on stdin (runAs `input`) is what a user types.
 * The exit code is argv's.
 */
export function underPty(argv: string[]): string[] {
  const quote = (a: string) => /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`;
  return ["script", "-qefc", argv.map(quote).join(" "), "/dev/null"];
}
