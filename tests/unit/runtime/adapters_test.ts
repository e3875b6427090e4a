import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { RecordingRunner } from "../../fakes/runner.ts";
import { DockerRuntime } from "../../../src/runtime/docker.ts";
import { PodmanRuntime } from "../../../src/runtime/podman.ts";
import { ApptainerRuntime, SingularityRuntime } from "../../../src/runtime/apptainer.ts";
import type { BuildRequest, RunSpec } from "../../../src/runtime/types.ts";

const spec: RunSpec = {
  image: "localhost/venvoy/demo:latest",
  command: ["sh", "-c", 'echo "hi" && exit 7'],
  mounts: [
    { source: "/home/ann/my data", target: "/workspace" },
    { source: "/srv/ref,v2", target: "/ref", readOnly: true },
  ],
  env: { Q: `say "hi" 'there'`, A: "1" },
  workdir: "/workspace",
  user: { uid: 1000, gid: 1000 },
  name: "venvoy-demo-1",
  labels: { "org.venvoy.env": "demo" },
};

const build: BuildRequest = {
  contextDir: "/tmp/ctx with space",
  file: "/tmp/ctx with space/Dockerfile",
  tag: "localhost/venvoy/demo:latest",
  labels: { "org.venvoy.name": "demo", "org.venvoy.created": "2026-11-21" },
  buildArgs: { PY: "3.11" },
};

Deno.test("podman run argv (rootful): --rm, --user, --mount with CSV quoting, env quotes", () => {
  const p = new PodmanRuntime(new RecordingRunner(), "podman", { rootless: false });
  assertEquals(p.runArgv(spec), [
    "podman",
    "run",
    "--rm",
    "--user",
    "1000:1000",
    "--name",
    "venvoy-demo-1",
    "--label",
    "org.venvoy.env=demo",
    "--mount",
    "type=bind,source=/home/ann/my data,target=/workspace",
    "--mount",
    `type=bind,"source=/srv/ref,v2",target=/ref,readonly`,
    "-e",
    "A=1",
    "-e",
    `Q=say "hi" 'there'`,
    "-w",
    "/workspace",
    "localhost/venvoy/demo:latest",
    "sh",
    "-c",
    'echo "hi" && exit 7',
  ]);
});

Deno.test("podman run argv (rootless) maps the user with keep-id; -i -t only when asked", () => {
  const p = new PodmanRuntime(new RecordingRunner(), "podman", { rootless: true });
  const argv = p.runArgv({
    ...spec,
    interactive: true,
    tty: true,
    mounts: [],
    env: {},
    labels: {},
  });
  // --user as well: the image's USER venvoy would win over keep-id's default user.
  assertEquals(argv.slice(0, 9), [
    "podman",
    "run",
    "--rm",
    "--userns=keep-id:uid=1000,gid=1000",
    "--user",
    "1000:1000",
    "-i",
    "-t",
    "--name",
  ]);
});

Deno.test("podman build argv keeps layers and removes failed build containers", () => {
  const p = new PodmanRuntime(new RecordingRunner(), "/usr/bin/podman");
  assertEquals(p.buildArgv({ ...build, network: "none", noCache: true }), [
    "/usr/bin/podman",
    "build",
    "--layers",
    "--force-rm",
    "-t",
    "localhost/venvoy/demo:latest",
    "-f",
    "/tmp/ctx with space/Dockerfile",
    "--label",
    "org.venvoy.created=2026-11-21",
    "--label",
    "org.venvoy.name=demo",
    "--build-arg",
    "PY=3.11",
    "--network",
    "none",
    "--no-cache",
    "/tmp/ctx with space",
  ]);
});

Deno.test("docker build on a Podman backend asks for the classic builder", async () => {
  const r = new RecordingRunner().on(["docker", "build"], {});
  await new DockerRuntime(r, "docker", { backend: "podman" }).build(build);
  assertEquals(r.calls[0].env, { DOCKER_BUILDKIT: "0" });
  assertEquals(r.calls[0].cmd.slice(0, 4), ["docker", "build", "--force-rm", "-t"]);
  const r2 = new RecordingRunner().on(["docker", "build"], {});
  await new DockerRuntime(r2, "docker", { backend: "docker" }).build(build);
  assertEquals(r2.calls[0].env, {});
});

Deno.test("docker run: no --rm; exit code read back from the container; container removed", async () => {
  const r = new RecordingRunner()
    .on(["docker", "run"], { code: 0 }) // the podman 4 API bug: says 0
    .on(["docker", "container", "inspect"], { stdout: "7\n" })
    .on(["docker", "rm", "-f", "venvoy-demo-1"], {});
  const code = await new DockerRuntime(r, "docker").run(spec);
  assertEquals(code, 7);
  assertEquals(r.argvs[0].slice(0, 4), ["docker", "run", "--user", "1000:1000"]);
  assert(!r.argvs[0].includes("--rm"));
  assertEquals(r.argvs[1], [
    "docker",
    "container",
    "inspect",
    "--format",
    "{{.State.ExitCode}}",
    "venvoy-demo-1",
  ]);
  assertEquals(r.argvs[2], ["docker", "rm", "-f", "venvoy-demo-1"]);
  assertEquals(r.calls[0].forwardSignals, true);
  assertEquals(r.calls[0].stdin, "null");
});

Deno.test("docker run without a name gets a generated one, and CLI failures keep their code", async () => {
  const r = new RecordingRunner()
    .on(["docker", "run"], { code: 125 })
    .on(["docker", "container", "inspect"], { code: 1, stderr: "no such container" })
    .on(["docker", "rm", "-f"], {});
  const code = await new DockerRuntime(r, "docker").run({ image: "x", command: [] });
  assertEquals(code, 125);
  const name = r.argvs[0][r.argvs[0].indexOf("--name") + 1];
  assert(/^venvoy-run-[0-9a-f-]{12}$/.test(name), name);
  assertEquals(r.argvs.at(-1), ["docker", "rm", "-f", name]);
});

Deno.test("apptainer exec argv: binds via --mount, --pwd, clean environment, no --env", () => {
  const a = new ApptainerRuntime(new RecordingRunner(), "apptainer");
  assertEquals(a.runArgv({ ...spec, image: "/envs/demo/image.sif", noHome: true }), [
    "apptainer",
    "exec",
    "--cleanenv",
    "--no-home",
    "--mount",
    "type=bind,source=/home/ann/my data,destination=/workspace",
    "--mount",
    `type=bind,"source=/srv/ref,v2",destination=/ref,ro`,
    "--pwd",
    "/workspace",
    "/envs/demo/image.sif",
    "sh",
    "-c",
    'echo "hi" && exit 7',
  ]);
  assertEquals(a.runArgv({ image: "/x.sif", command: [] }), [
    "apptainer",
    "run",
    "--cleanenv",
    "/x.sif",
  ]);
});

Deno.test("apptainer variables travel as APPTAINERENV_, escaped so $, \\ and ` arrive as typed", async () => {
  const r = new RecordingRunner().on(["apptainer"], {});
  const env = { V: "a $HOME \\ `id`", L: "node01,node02", M: 'a=b,c="d" e\nf' };
  await new ApptainerRuntime(r).run({ image: "/x.sif", command: ["true"], env });
  assertEquals(r.calls[0].env, {
    APPTAINERENV_L: "node01,node02",
    APPTAINERENV_M: 'a=b,c="d" e\nf',
    APPTAINERENV_V: "a \\$HOME \\\\ \\`id\\`",
  });
  assert(!r.calls[0].cmd.includes("--env"));
  const s = new RecordingRunner().on(["singularity"], {});
  await new SingularityRuntime(s).run({ image: "/x.sif", command: ["true"], env: { A: "1" } });
  assertEquals(s.calls[0].env, { SINGULARITYENV_A: "1" });
});

const sandbox = { network: false, memory: "2g", pids: 512, timeoutMs: 60000, hostCwd: "/s/r 1" };

Deno.test("sandbox: podman and docker drop the network, capabilities, new privileges; limits", async () => {
  const flags = [
    "--network",
    "none",
    "--cap-drop",
    "all",
    "--security-opt",
    "no-new-privileges",
    "--memory",
    "2g",
    "--pids-limit",
    "512",
  ];
  const run: RunSpec = { image: "img", command: ["true"], user: { uid: 1, gid: 2 }, sandbox };
  const p = new PodmanRuntime(new RecordingRunner(), "podman", { rootless: false });
  assertEquals(p.runArgv(run), ["podman", "run", "--rm", "--user", "1:2", ...flags, "img", "true"]);
  const d = new DockerRuntime(new RecordingRunner(), "docker");
  assertEquals(d.runArgv(run), ["docker", "run", "--user", "1:2", ...flags, "img", "true"]);
  // --network gives the engine's default network back; no limit asked, none passed.
  const open = { ...sandbox, network: true, memory: null, pids: null };
  assertEquals(p.runArgv({ ...run, user: undefined, sandbox: open }), [
    "podman",
    "run",
    "--rm",
    "--cap-drop",
    "all",
    "--security-opt",
    "no-new-privileges",
    "img",
    "true",
  ]);
  // The engine starts in the scratch folder and is killed at the time limit.
  const r = new RecordingRunner().on(["podman"], {});
  await new PodmanRuntime(r, "podman", { rootless: false }).run(run);
  assertEquals([r.calls[0].cwd, r.calls[0].timeoutMs], ["/s/r 1", 60000]);
});

Deno.test("sandbox: docker killed at its time limit reports the kill, not the running container's 0", async () => {
  const r = new RecordingRunner()
    .on(["docker", "run"], { code: 137, timedOut: true })
    .on(["docker", "container", "inspect"], { stdout: "0\n" })
    .on(["docker", "rm", "-f"], {});
  const code = await new DockerRuntime(r, "docker").run({ image: "x", command: [], sandbox });
  assertEquals(code, 137);
  assertEquals(r.argvs.at(-1)?.slice(0, 3), ["docker", "rm", "-f"]);
});

Deno.test("sandbox: apptainer --containall, no site bind paths, no privileges, no network", async () => {
  const a = new ApptainerRuntime(new RecordingRunner(), "apptainer");
  const run: RunSpec = { image: "/x.sif", command: ["true"], noHome: true, workdir: "/workspace" };
  const base = ["apptainer", "exec", "--cleanenv", "--no-home"];
  const confine = ["--containall", "--no-mount", "bind-paths", "--no-privs"];
  assertEquals(a.runArgv({ ...run, sandbox: { ...sandbox, memory: null, pids: null } }), [
    ...base,
    ...confine,
    "--net",
    "--network",
    "none",
    "--pwd",
    "/workspace",
    "/x.sif",
    "true",
  ]);
  assertEquals(a.runArgv({ ...run, sandbox: { ...sandbox, network: true } }), [
    ...base,
    ...confine,
    "--memory",
    "2g",
    "--pids-limit",
    "512",
    "--pwd",
    "/workspace",
    "/x.sif",
    "true",
  ]);
  const r = new RecordingRunner().on(["apptainer"], { code: 255, stderr: "FATAL: net denied" });
  const refused = await new ApptainerRuntime(r).sandboxRefusal("/x.sif", sandbox);
  assertEquals(refused, "FATAL: net denied");
  assertEquals(r.calls[0].cwd, "/s/r 1");
  assertEquals(r.calls[0].cmd.slice(-2), ["/x.sif", "true"]);
});

Deno.test("SIF builds: definition needs --fakeroot, archives do not", () => {
  const s = new SingularityRuntime(new RecordingRunner());
  assertEquals(s.buildSifArgv({ kind: "definition", path: "/e/venvoy.def" }, "/e/image.sif"), [
    "singularity",
    "build",
    "--fakeroot",
    "--force",
    "/e/image.sif",
    "/e/venvoy.def",
  ]);
  assertEquals(
    s.buildSifArgv({ kind: "docker-archive", path: "/tmp/my image.tar" }, "/e/image.sif"),
    ["singularity", "build", "--force", "/e/image.sif", "docker-archive:/tmp/my image.tar"],
  );
  assertEquals(s.name, "singularity");
});

Deno.test("save, load and tag argv for podman and docker", async () => {
  const r = new RecordingRunner().on(["podman", "load"], {
    stdout: "Loaded image: localhost/venvoy/demo:latest\n",
  }).on(["podman", "save"], {}).on(["podman", "tag"], {});
  const p = new PodmanRuntime(r, "podman");
  assertEquals(await p.save("localhost/venvoy/demo:latest", "/out/my image.tar"), "docker-archive");
  assertEquals(
    await p.load("/out/my image.tar", { target: "localhost/venvoy/other:latest" }),
    "localhost/venvoy/other:latest",
  );
  assertEquals(r.argvs, [
    [
      "podman",
      "save",
      "--format",
      "docker-archive",
      "-o",
      "/out/my image.tar",
      "localhost/venvoy/demo:latest",
    ],
    ["podman", "load", "-i", "/out/my image.tar"],
    ["podman", "tag", "localhost/venvoy/demo:latest", "localhost/venvoy/other:latest"],
  ]);
  const d = new RecordingRunner().on(["docker", "load"], {
    stdout: "Loaded image ID: sha256:abc\n",
  });
  assertEquals(await new DockerRuntime(d).load("/a.tar"), "sha256:abc");
});

Deno.test("inspect parses podman and docker output to the same shape; missing image is null", async () => {
  const podmanOut = JSON.stringify([{
    Id: "fd7ef357cecb00",
    RepoDigests: ["localhost/x@sha256:2", "localhost/x@sha256:1"],
    Labels: { "org.venvoy.name": "demo" },
    Architecture: "amd64",
    Os: "linux",
    Size: 42,
    Created: "2026-11-21T00:00:00Z",
  }]);
  const r = new RecordingRunner()
    .on(["podman", "image", "inspect", "demo"], { stdout: podmanOut })
    .on(["podman", "image", "inspect", "gone"], {
      code: 125,
      stderr: "Error: gone: image not known",
    });
  const p = new PodmanRuntime(r);
  assertEquals(await p.inspect("demo"), {
    id: "sha256:fd7ef357cecb00",
    digests: ["localhost/x@sha256:1", "localhost/x@sha256:2"],
    labels: { "org.venvoy.name": "demo" },
    architecture: "amd64",
    os: "linux",
    size: 42,
    created: "2026-11-21T00:00:00Z",
  });
  assertEquals(await p.inspect("gone"), null);
  const dockerOut = JSON.stringify([{
    Id: "sha256:abc",
    RepoDigests: [],
    Config: { Labels: { a: "b" } },
    Architecture: "arm64",
    Os: "linux",
  }]);
  const d = new RecordingRunner().on(["docker", "image", "inspect"], { stdout: dockerOut });
  const info = await new DockerRuntime(d).inspect("x");
  assertEquals([info?.id, info?.labels, info?.architecture], ["sha256:abc", { a: "b" }, "arm64"]);
});

Deno.test("listContainers filters by label and reads both list formats", async () => {
  const r = new RecordingRunner().on(["podman", "ps"], {
    stdout: JSON.stringify([{
      Id: "c1",
      Names: ["venvoy-demo-1"],
      Image: "img",
      State: "running",
      Labels: { "org.venvoy.env": "demo" },
    }]),
  });
  const rows = await new PodmanRuntime(r).listContainers({ "org.venvoy.env": "demo" });
  assertEquals(r.argvs[0], [
    "podman",
    "ps",
    "-a",
    "--no-trunc",
    "--filter",
    "label=org.venvoy.env=demo",
    "--format",
    "{{json .}}",
  ]);
  assertEquals(rows[0].name, "venvoy-demo-1");
  const d = new RecordingRunner().on(["docker", "ps"], {
    stdout:
      `{"ID":"c2","Names":"n2","Image":"i","State":"exited","Labels":"a=b,org.venvoy.env=x"}\n`,
  });
  const drows = await new DockerRuntime(d).listContainers();
  assertEquals(drows[0].labels, { a: "b", "org.venvoy.env": "x" });
});
