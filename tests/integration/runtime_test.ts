/**
 * The runtime layer against the real lab: build, inspect, run with a mount and an exit
 * code, save and load, SIF builds. The same adapter code the commands use.
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { DockerRuntime } from "../../src/runtime/docker.ts";
import { PodmanRuntime } from "../../src/runtime/podman.ts";
import { ApptainerRuntime } from "../../src/runtime/apptainer.ts";
import type { ContainerRuntime } from "../../src/runtime/types.ts";
import { ignoreUnless, LAB_DEBIAN, probe, runner, tempDir } from "./lab.ts";

const UID = Deno.uid() ?? 0;
const GID = Deno.gid() ?? 0;
const QUOTED = `it's "quoted" $HOME \\ value`;

function ociEngines(): { name: "podman" | "docker"; make: () => ContainerRuntime }[] {
  return [
    { name: "podman", make: () => new PodmanRuntime(runner, probe("podman")!.path) },
    {
      name: "docker",
      make: () =>
        new DockerRuntime(runner, probe("docker")!.path, { backend: probe("docker")!.backend }),
    },
  ];
}

for (const engine of ociEngines()) {
  Deno.test({
    name: `${engine.name}: build, inspect, run with a mount and exit code, save, load, remove`,
    ignore: ignoreUnless(engine.name),
    sanitizeResources: false,
    fn: async (t) => {
      const rt = engine.make();
      const tag = `localhost/venvoy-test-rt/${engine.name}:latest`;
      const ctx = await tempDir(`${engine.name} ctx with space`);
      await Deno.writeTextFile(
        join(ctx, "Dockerfile"),
        `FROM ${LAB_DEBIAN}\nRUN echo built > /built.txt\nCMD ["cat", "/built.txt"]\n`,
      );
      try {
        await t.step("build with labels", async () => {
          await rt.build({
            contextDir: ctx,
            file: join(ctx, "Dockerfile"),
            tag,
            labels: { "org.venvoy.test": engine.name, "org.venvoy.managed": "true" },
            logPath: join(ctx, "build.log"),
          });
        });
        let id = "";
        await t.step("inspect: id, labels, architecture", async () => {
          const info = await rt.inspect(tag);
          assert(info, "image exists after build");
          assert(/^sha256:[0-9a-f]{64}$/.test(info.id), info.id);
          assertEquals(info.labels["org.venvoy.test"], engine.name);
          assertEquals(info.architecture, Deno.build.arch === "x86_64" ? "amd64" : "arm64");
          id = info.id;
          assertEquals(await rt.inspect("localhost/venvoy-test-rt/absent:none"), null);
        });
        await t.step("run: mount with a space, quoted env, host owner, exit code 7", async () => {
          const data = await tempDir(`${engine.name} data dir`);
          const code = await rt.run({
            image: tag,
            command: [
              "sh",
              "-c",
              'printf "%s" "$Q" > /data/out.txt; cat /built.txt > /data/b.txt; exit 7',
            ],
            mounts: [{ source: data, target: "/data" }],
            env: { Q: QUOTED },
            workdir: "/data",
            user: { uid: UID, gid: GID },
            labels: { "org.venvoy.test": engine.name },
          });
          assertEquals(code, 7);
          assertEquals(await Deno.readTextFile(join(data, "out.txt")), QUOTED);
          assertEquals(await Deno.readTextFile(join(data, "b.txt")), "built\n");
          const st = await Deno.stat(join(data, "out.txt"));
          assertEquals([st.uid, st.gid], [UID, GID]);
          const left = await rt.listContainers({ "org.venvoy.test": engine.name });
          assertEquals(left, [], "the run left no container behind");
          await Deno.remove(data, { recursive: true });
        });
        await t.step("run: a read-only mount refuses writes; exit 0 stays 0", async () => {
          const data = await tempDir(`${engine.name} ro`);
          const code = await rt.run({
            image: tag,
            command: ["sh", "-c", "touch /ro/x 2>/dev/null && exit 1; exit 0"],
            mounts: [{ source: data, target: "/ro", readOnly: true }],
          });
          assertEquals(code, 0);
          await Deno.remove(data, { recursive: true });
        });
        await t.step("save to an archive, remove, load back: same image ID", async () => {
          const out = await tempDir(`${engine.name} archive`);
          const archive = join(out, "my image.tar");
          assertEquals(await rt.save(tag, archive), "docker-archive");
          assert((await Deno.stat(archive)).size > 1_000_000);
          await rt.remove(tag);
          assertEquals(await rt.inspect(tag), null);
          const loaded = await rt.load(archive, { target: tag });
          assertEquals(loaded, tag);
          assertEquals((await rt.inspect(tag))?.id, id);
          await Deno.remove(out, { recursive: true });
        });
        await t.step("listContainers finds a labelled container", async () => {
          const label = `org.venvoy.test.list=${engine.name}`;
          const made = await runner.run({
            cmd: [rt.binary, "create", "--label", label, tag, "true"],
          });
          assertEquals(made.code, 0, made.stderr);
          const rows = await rt.listContainers({ "org.venvoy.test.list": engine.name });
          assertEquals(rows.length, 1);
          assert(made.stdout.trim().startsWith(rows[0].id.slice(0, 12)));
          await runner.run({ cmd: [rt.binary, "rm", "-f", made.stdout.trim()] });
        });
      } finally {
        await rt.remove(tag).catch(() => {});
        await Deno.remove(ctx, { recursive: true }).catch(() => {});
      }
    },
  });
}

Deno.test({
  name:
    "apptainer: SIF from a docker-archive and from a definition; exec with mount, env, exit code",
  ignore: ignoreUnless("apptainer") || ignoreUnless("podman"),
  sanitizeResources: false,
  fn: async (t) => {
    const podman = new PodmanRuntime(runner, probe("podman")!.path);
    const app = new ApptainerRuntime(runner, probe("apptainer")!.path);
    const dir = await tempDir("apptainer dir");
    const archive = join(dir, "debian.tar");
    const sif = join(dir, "env one", "image.sif");
    try {
      await podman.save(LAB_DEBIAN, archive);
      await t.step("load = build a SIF from the docker-archive", async () => {
        assertEquals(await app.load(archive, { target: sif, kind: "docker-archive" }), sif);
        const info = await app.inspect(sif);
        assert(info && /^sha256:[0-9a-f]{64}$/.test(info.id));
        assertEquals(info.labels["org.venvoy.lab.rootfs-key"] !== undefined, true);
      });
      await t.step("exec: mount with a space, quoted env, exit code 7, host owner", async () => {
        const data = await tempDir("apptainer data dir");
        const code = await app.run({
          image: sif,
          command: ["sh", "-c", 'printf "%s" "$Q" > /data/out.txt; exit 7'],
          mounts: [{ source: data, target: "/data" }],
          env: { Q: QUOTED },
          workdir: "/data",
        });
        assertEquals(code, 7);
        assertEquals(await Deno.readTextFile(join(data, "out.txt")), QUOTED);
        assertEquals((await Deno.stat(join(data, "out.txt"))).uid, UID);
        await Deno.remove(data, { recursive: true });
      });
      await t.step("build from a definition file with %post and %labels", async () => {
        const def = join(dir, "venvoy.def");
        await Deno.writeTextFile(
          def,
          // docker-archive, not localimage: the lab's patched apptainer cannot re-exec
          // itself to unpack a SIF inside --fakeroot (see tests/lab/setup.sh).
          `Bootstrap: docker-archive\nFrom: ${archive}\n\n%post\n    echo from-def > /built.txt\n\n%labels\n    org.venvoy.test apptainer\n`,
        );
        const out = join(dir, "def.sif");
        await app.build({ contextDir: dir, file: def, tag: out, logPath: join(dir, "build.log") });
        const info = await app.inspect(out);
        assertEquals(info?.labels["org.venvoy.test"], "apptainer");
        const data = await tempDir("apptainer def");
        assertEquals(
          await app.run({
            image: out,
            command: ["sh", "-c", "cat /built.txt > /d/x"],
            mounts: [{ source: data, target: "/d" }],
          }),
          0,
        );
        assertEquals(await Deno.readTextFile(join(data, "x")), "from-def\n");
      });
      await t.step("a failed build shows the log tail and path, and leaves no SIF", async () => {
        const bad = join(dir, "bad.def");
        await Deno.writeTextFile(
          bad,
          `Bootstrap: docker-archive\nFrom: ${archive}\n\n%post\n    exit 3\n`,
        );
        const out = join(dir, "bad.sif");
        await assert.rejects(
          app.build({ contextDir: dir, file: bad, tag: out, logPath: join(dir, "bad.log") }),
          (e: Error & { hint?: string }) =>
            /apptainer build failed/.test(e.message) && (e.hint ?? "").includes("bad.log"),
        );
        await assert.rejects(Deno.stat(out));
      });
      await t.step("save copies the SIF; remove deletes it", async () => {
        const copy = join(dir, "copy.sif");
        assertEquals(await app.save(sif, copy), "sif");
        assertEquals((await app.inspect(copy))?.id, (await app.inspect(sif))?.id);
        await app.remove(copy);
        assertEquals(await app.inspect(copy), null);
      });
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
