/** Issue #11 item 9: delete removes only its own environment's image. */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { RecordingRunner } from "../../fakes/runner.ts";
import { deleteEnv } from "../../../src/env/manage.ts";
import { ownerKey } from "../../../src/env/owner.ts";
import { statePaths } from "../../../src/env/paths.ts";
import { tempDir } from "../../fakes/tmp.ts";

const RECORDED = "ab".repeat(32);

async function home() {
  const root = await tempDir("venvoy-delete-");
  const env = { HOME: root, VENVOY_HOME: join(root, "vh"), VENVOY_PROJECTS: join(root, "p") };
  const paths = statePaths((n) => (env as Record<string, string>)[n]);
  const dir = join(paths.environments, "demo");
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    join(dir, "config.yaml"),
    `name: demo\nengine: podman\nimage: localhost/venvoy/demo:latest\nimage_id: sha256:${RECORDED}\n`,
  );
  return { root, env, paths, dir };
}

function podman(env: Record<string, string>, labels: Record<string, string>, id: string) {
  return new RecordingRunner({ env, paths: { podman: "/usr/bin/podman" } })
    .on(["/usr/bin/podman", "image", "inspect"], {
      stdout: JSON.stringify([{ Id: `sha256:${id}`, Config: { Labels: labels } }]),
    })
    .on(["/usr/bin/podman", "ps"], {
      stdout: JSON.stringify([
        {
          Id: "c1",
          Image: "localhost/venvoy/demo:latest",
          Labels: { "org.venvoy.env": "demo" },
        },
      ]),
    })
    .on(["/usr/bin/podman", "rm", "-f"], {})
    .on(["/usr/bin/podman", "image", "rm"], {});
}

const INSPECT = ["/usr/bin/podman", "image", "inspect", "localhost/venvoy/demo:latest"];
const PS = [
  "/usr/bin/podman",
  "ps",
  "-a",
  "--no-trunc",
  "--filter",
  "label=org.venvoy.env=demo",
  "--format",
  "{{json .}}",
];

Deno.test("delete leaves the tag when it names another user's image (shared daemon)", async () => {
  const h = await home();
  try {
    const runner = podman(h.env, { "org.venvoy.owner": "f".repeat(24) }, "ef".repeat(32));
    const res = await deleteEnv(runner, h.paths, "demo", {});
    assertEquals(runner.argvs, [INSPECT, PS]);
    assert(res.kept[0].startsWith("image localhost/venvoy/demo:latest (it is not"));
    assertEquals(await Deno.stat(h.dir).catch(() => null), null, "the folder goes");
  } finally {
    await Deno.remove(h.root, { recursive: true });
  }
});

Deno.test("delete removes its own image: by owner key, or by the recorded ID", async () => {
  for (const ours of ["key", "id"]) {
    const h = await home();
    try {
      const key = await ownerKey(h.paths.venvoyHome);
      const runner = ours === "key"
        ? podman(h.env, { "org.venvoy.owner": key }, "12".repeat(32))
        : podman(h.env, {}, RECORDED);
      const res = await deleteEnv(runner, h.paths, "demo", {});
      assertEquals(runner.argvs, [
        INSPECT,
        PS,
        ["/usr/bin/podman", "rm", "-f", "c1"],
        ["/usr/bin/podman", "image", "rm", "localhost/venvoy/demo:latest"],
      ]);
      assertEquals(res.kept, []);
    } finally {
      await Deno.remove(h.root, { recursive: true });
    }
  }
});

Deno.test("the owner key differs between users and between VENVOY_HOMEs, and follows links", async () => {
  const root = await tempDir("venvoy-owner-");
  try {
    await Deno.mkdir(join(root, "a"));
    await Deno.symlink(join(root, "a"), join(root, "link"));
    const a = await ownerKey(join(root, "a"), 1000);
    assert(/^[0-9a-f]{24}$/.test(a));
    assertEquals(await ownerKey(join(root, "link"), 1000), a);
    assert(a !== await ownerKey(join(root, "a"), 1001));
    assert(a !== await ownerKey(join(root, "b"), 1000));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
