import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { devcontainerJson, devcontainerMount } from "../../../src/session/editor.ts";
import type { EnvConfig } from "../../../src/env/config.ts";
import type { LoadedEnv } from "../../../src/env/store.ts";
import { DockerRuntime, PodmanRuntime } from "../../../src/runtime/mod.ts";
import { mountFlag } from "../../../src/runtime/oci.ts";
import { UsageError } from "../../../src/ui/errors.ts";
import { RecordingRunner } from "../../fakes/runner.ts";

/** How docker/podman read a --mount value: RFC 4180 CSV (Go's encoding/csv), one record. */
function parseCsvRecord(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    let field = "";
    if (line[i] === '"') {
      i++;
      for (;;) {
        assert(i < line.length, `unterminated quote in ${line}`);
        if (line[i] === '"' && line[i + 1] === '"') (field += '"'), (i += 2);
        else if (line[i] === '"') {
          i++;
          break;
        } else field += line[i++];
      }
      assert(i === line.length || line[i] === ",", `bare text after a quote in ${line}`);
    } else {
      while (i < line.length && line[i] !== ",") field += line[i++];
    }
    out.push(field);
    i++;
  }
  return out;
}

function env(dir: string): LoadedEnv {
  return {
    name: "study",
    dir,
    config: { name: "study" } as EnvConfig,
  };
}

function session(home: string | null, extra: { source: string; target: string }[] = []) {
  return {
    runtime: new PodmanRuntime(new RecordingRunner(), "/usr/bin/podman"),
    image: "localhost/venvoy/study:latest",
    home,
    extraMounts: extra,
    extraEnv: [] as [string, string][],
  };
}

Deno.test("devcontainer.json: a path with a comma stays one mount field (CSV-quoted)", () => {
  const dir = "/srv/venvoy/environments,evil=1/study";
  const home = '/home/a,b "quoted"';
  const json = devcontainerJson(env(dir), session(home, [{ source: "/data,x", target: "/d" }]));
  const mounts = json.mounts as string[];
  assertEquals(mounts.map(parseCsvRecord), [
    [`source=${dir}/persist`, "target=/opt/venvoy/persist", "type=bind"],
    [`source=${home}`, `target=${home}`, "type=bind"],
    ["source=/data,x", "target=/d", "type=bind"],
  ]);
  // The exact quoting the runtime adapters use for --mount (one implementation).
  assertEquals(mounts[2], '"source=/data,x",target=/d,type=bind');
  assert(mountFlag({ source: "/data,x", target: "/d" }).startsWith("type=bind,"));
  assert(mountFlag({ source: "/data,x", target: "/d" }).includes('"source=/data,x"'));
});

Deno.test("devcontainer.json: plain paths are unquoted, readonly is a bare field", () => {
  assertEquals(
    devcontainerMount({ source: "/a b", target: "/c", readOnly: true }),
    "source=/a b,target=/c,type=bind,readonly",
  );
});

Deno.test("devcontainer.json: a mount path with a line break is refused (exit 2)", () => {
  assert.throws(
    () => devcontainerJson(env("/srv/x\ny"), session(null)),
    (e) => e instanceof UsageError && e.exitCode === 2 && /line break/.test(e.message),
  );
});

Deno.test("devcontainer.json: run --read-only and --gpus reach the editor's container", async (t) => {
  const plain = devcontainerJson(env("/srv/study"), session(null));
  assertEquals(
    (plain.mounts as string[])[0],
    "source=/srv/study/persist,target=/opt/venvoy/persist,type=bind",
  );
  assertEquals(plain.runArgs, [
    "--label",
    "org.venvoy.managed=true",
    "--label",
    "org.venvoy.env=study",
  ]);
  await t.step("--read-only: persist/ is mounted read-only", () => {
    const json = devcontainerJson(env("/srv/study"), { ...session(null), readOnly: true });
    assertEquals(
      (json.mounts as string[])[0],
      "source=/srv/study/persist,target=/opt/venvoy/persist,type=bind,readonly",
    );
  });
  await t.step("--gpus: the engine's own GPU flags (podman: CDI; docker: --gpus all)", () => {
    const podman = devcontainerJson(env("/srv/study"), { ...session(null), gpus: true });
    assertEquals((podman.runArgs as string[]).slice(4), ["--device", "nvidia.com/gpu=all"]);
    const docker = devcontainerJson(env("/srv/study"), {
      ...session(null),
      runtime: new DockerRuntime(new RecordingRunner(), "/usr/bin/docker"),
      gpus: true,
    });
    assertEquals((docker.runArgs as string[]).slice(4), ["--gpus", "all"]);
  });
});

Deno.test("devcontainer.json: the container's user makes /workspace files the host user's", () => {
  const json = (runtime: PodmanRuntime | DockerRuntime, uid: number) => {
    const j = devcontainerJson(env("/srv/study"), { ...session(null), runtime, uid });
    return [j.containerUser, j.remoteUser, j.updateRemoteUserUID];
  };
  const podman = (rootless: boolean) =>
    new PodmanRuntime(new RecordingRunner(), "/usr/bin/podman", { rootless });
  const docker = (rootless: boolean) =>
    new DockerRuntime(new RecordingRunner(), "/usr/bin/docker", { rootless });
  const imageUser = [undefined, undefined, true];
  const root = ["root", "root", false];
  // Rootless podman: the image's user, given the host uid; the devcontainers CLI adds keep-id.
  assertEquals(json(podman(true), 1002), imageUser);
  // Root (rootful podman, which refuses keep-id; Docker Engine as root): root is the user.
  assertEquals(json(podman(false), 0), root);
  assertEquals(json(docker(false), 0), root);
  // The docker CLI on a rootless engine: its root is the host user (keep-id is not on offer).
  assertEquals(json(docker(true), 1002), root);
  // Docker Engine as a docker-group user: the image's user with the host uid.
  assertEquals(json(docker(false), 1003), imageUser);
  // venvoy never adds a --userns of its own (the CLI's keep-id would clash with it).
  const runArgs = devcontainerJson(env("/srv/study"), { ...session(null), uid: 1002 }).runArgs;
  assertEquals((runArgs as string[]).some((a) => a.startsWith("--userns")), false);
});
