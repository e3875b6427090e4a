/**
 * One runtime seam: every engine command line comes from an adapter in src/runtime/. The
 * adapters' argv is asserted here; the scan below fails when code elsewhere builds one.
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { RecordingRunner } from "../../fakes/runner.ts";
import { ApptainerRuntime, DockerRuntime, PodmanRuntime } from "../../../src/runtime/mod.ts";
import { ProcessError, VenvoyError } from "../../../src/ui/errors.ts";

const SRC = join(dirname(fileURLToPath(import.meta.url)), "../../../src");

Deno.test("pull: `<engine> pull REF`; its exit code says whether it worked", async () => {
  const r = new RecordingRunner()
    .on(["/usr/bin/podman", "pull", "ok:1"], { code: 0 })
    .on(["/usr/bin/podman", "pull", "gone:1"], { code: 125, stderr: "manifest unknown" });
  const p = new PodmanRuntime(r, "/usr/bin/podman");
  assertEquals(await p.pull("ok:1"), true);
  assertEquals(await p.pull("gone:1"), false);
  assertEquals(r.argvs, [["/usr/bin/podman", "pull", "ok:1"], [
    "/usr/bin/podman",
    "pull",
    "gone:1",
  ]]);
  const a = new RecordingRunner();
  assertEquals(await new ApptainerRuntime(a).pull("docker://x"), false);
  assertEquals(a.argvs, [], "apptainer has no store to pull into");
});

Deno.test("removeContainer: rm -f, podman's --ignore on request; a missing one is no error", async () => {
  const r = new RecordingRunner()
    .on(["podman", "rm"], { code: 0 })
    .on(["docker", "rm", "-f", "gone"], { code: 1, stderr: "Error: No such container: gone" })
    .on(["docker", "rm", "-f", "stuck"], { code: 1, stderr: "device busy" });
  await new PodmanRuntime(r, "podman").removeContainer("c1");
  await new PodmanRuntime(r, "podman").removeContainer("venvoy-x-1", { ignoreMissing: true });
  const d = new DockerRuntime(r, "docker");
  await d.removeContainer("gone");
  await assert.rejects(
    () => d.removeContainer("stuck"),
    (e) => e instanceof ProcessError && e.stderr === "device busy" && e.code === 1,
  );
  assertEquals(r.argvs, [
    ["podman", "rm", "-f", "c1"],
    ["podman", "rm", "-f", "--ignore", "venvoy-x-1"],
    ["docker", "rm", "-f", "gone"],
    ["docker", "rm", "-f", "stuck"],
  ]);
  await assert.rejects(
    () => new ApptainerRuntime(new RecordingRunner()).removeContainer("x"),
    VenvoyError,
  );
});

Deno.test("saveToStdoutArgv: docker-archive on stdout; apptainer has no store", () => {
  const r = new RecordingRunner();
  assertEquals(new PodmanRuntime(r, "podman").saveToStdoutArgv("i:1"), [
    "podman",
    "save",
    "--format",
    "docker-archive",
    "i:1",
  ]);
  assertEquals(new DockerRuntime(r, "docker").saveToStdoutArgv("i:1"), ["docker", "save", "i:1"]);
  assert.throws(() => new ApptainerRuntime(r).saveToStdoutArgv("x.sif"), VenvoyError);
});

/** Engine command lines written outside the adapters: `[x.binary, ...]`, `["podman", ...]`. */
const ENGINE_ARGV = [
  /\[\s*\w+(?:\.\w+)*\.(?:binary|engine)\s*,\s*["'`]/,
  /\[\s*["'](?:podman|docker|apptainer|singularity)["']\s*,\s*["'](?!singularity|docker|podman|apptainer)[a-z-]/,
];

export async function engineArgvOutsideRuntime(root = SRC): Promise<string[]> {
  const hits: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const p = join(dir, e.name);
      const rel = relative(root, p);
      if (e.isDirectory) {
        if (rel !== "runtime" && rel !== "process") await walk(p);
      } else if (e.name.endsWith(".ts")) {
        const lines = (await Deno.readTextFile(p)).split("\n");
        lines.forEach((line, i) => {
          if (ENGINE_ARGV.some((re) => re.test(line))) hits.push(`${rel}:${i + 1}: ${line.trim()}`);
        });
      }
    }
  };
  await walk(root);
  return hits.sort();
}

Deno.test("no engine command line is built outside src/runtime/", async () => {
  assertEquals(await engineArgvOutsideRuntime(), []);
});

Deno.test("the scan finds an engine argv built by hand", async () => {
  const root = await Deno.makeTempDir({ prefix: "venvoy-seam-" });
  try {
    await Deno.mkdir(join(root, "env"));
    await Deno.mkdir(join(root, "runtime"));
    await Deno.writeTextFile(
      join(root, "env", "x.ts"),
      'await runner.run({ cmd: [builder.binary, "pull", ref] });\n' +
        'await runner.run({ cmd: ["podman", "image", "rm", id] });\n' +
        'const SIF: string[] = ["apptainer", "singularity"];\n',
    );
    await Deno.writeTextFile(join(root, "runtime", "y.ts"), 'const c = [this.binary, "rm"];\n');
    assertEquals(await engineArgvOutsideRuntime(root), [
      'env/x.ts:1: await runner.run({ cmd: [builder.binary, "pull", ref] });',
      'env/x.ts:2: await runner.run({ cmd: ["podman", "image", "rm", id] });',
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
