import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { RecordingRunner } from "../../fakes/runner.ts";
import { DockerRuntime } from "../../../src/runtime/docker.ts";
import { PodmanRuntime } from "../../../src/runtime/podman.ts";
import { ApptainerRuntime } from "../../../src/runtime/apptainer.ts";
import { MANAGED_LABELS } from "../../../src/runtime/types.ts";
import { parseImageList } from "../../../src/runtime/oci.ts";
import { tempDir } from "../../fakes/tmp.ts";

const HEX = "82c4596d4d1ed6d0c86e556221c927e7d8e3ddd9de6a692676266407897bfec9";
const HEX2 = "082c839817f0c267e9463d9037a3205681717a87d31c86651b7ff300f88e4b37";

// Captured from the docker CLI 28.2 (on the podman socket): one object per line and per tag.
const DOCKER_OUT = [
  `{"Containers":"0","CreatedAt":"2026-11-21 17:58:44 +0000 UTC","CreatedSince":"1 minute ago","Digest":"\\u003cnone\\u003e","ID":"sha256:${HEX}","Repository":"localhost/venvoy-probe","SharedSize":"0B","Size":"121MB","Tag":"1","UniqueSize":"121.4MB","VirtualSize":"121.4MB"}`,
  `{"Containers":"0","ID":"sha256:${HEX}","Repository":"localhost/venvoy-probe","Size":"121MB","Tag":"latest"}`,
  `{"Containers":"0","ID":"sha256:${HEX2}","Repository":"\\u003cnone\\u003e","Size":"121MB","Tag":"\\u003cnone\\u003e"}`,
].join("\n") + "\n";

// Captured from podman 4.3 `images --format json`: one array, names and labels included.
const PODMAN_OUT = JSON.stringify(
  [
    {
      Id: HEX,
      ParentId: HEX2,
      RepoTags: null,
      RepoDigests: ["localhost/venvoy-probe@sha256:c82e"],
      Size: 121430208,
      Labels: {
        "io.buildah.version": "1.28.2",
        "org.venvoy.managed": "true",
        "org.venvoy.env": "p",
      },
      Names: ["localhost/venvoy-probe:1"],
      Created: 1795283924,
    },
    { Id: HEX2, Size: 5, Labels: { "org.venvoy.managed": "true" }, Names: null },
  ],
  null,
  4,
);

Deno.test("docker listImages: argv filters by label, rows of one image merge, <none> has no ref", async () => {
  const r = new RecordingRunner().on(["docker", "images"], { stdout: DOCKER_OUT });
  const rows = await new DockerRuntime(r).listImages({ ...MANAGED_LABELS });
  assertEquals(r.argvs, [[
    "docker",
    "images",
    "--no-trunc",
    "--filter",
    "label=org.venvoy.managed=true",
    "--format",
    "{{json .}}",
  ]]);
  assertEquals(rows, [
    {
      id: `sha256:${HEX}`,
      refs: ["localhost/venvoy-probe:1", "localhost/venvoy-probe:latest"],
      labels: { "org.venvoy.managed": "true" },
      size: null,
    },
    { id: `sha256:${HEX2}`, refs: [], labels: { "org.venvoy.managed": "true" }, size: null },
  ]);
});

Deno.test("podman listImages: --format json, labels sorted into --filter, array output", async () => {
  const r = new RecordingRunner().on(["podman", "images"], { stdout: PODMAN_OUT });
  const rows = await new PodmanRuntime(r, "podman", { rootless: false })
    .listImages({ "org.venvoy.managed": "true", "org.venvoy.env": "p" });
  assertEquals(r.argvs, [[
    "podman",
    "images",
    "--no-trunc",
    "--filter",
    "label=org.venvoy.env=p",
    "--filter",
    "label=org.venvoy.managed=true",
    "--format",
    "json",
  ]]);
  assertEquals(rows[0].id, `sha256:${HEX}`);
  assertEquals(rows[0].refs, ["localhost/venvoy-probe:1"]);
  assertEquals(rows[0].labels["io.buildah.version"], "1.28.2");
  assertEquals(rows[0].size, 121430208);
  assertEquals(rows[1], {
    id: `sha256:${HEX2}`,
    refs: [],
    labels: { "org.venvoy.managed": "true", "org.venvoy.env": "p" },
    size: 5,
  });
});

Deno.test("listImages: no images is an empty list, not an error", async () => {
  assertEquals(parseImageList(""), []);
  assertEquals(parseImageList("[]\n"), []);
  const r = new RecordingRunner().on(["docker", "images"], { stdout: "" });
  assertEquals(await new DockerRuntime(r).listImages(), []);
  assertEquals(r.argvs[0], ["docker", "images", "--no-trunc", "--format", "{{json .}}"]);
});

Deno.test("listImages: an engine failure is a ProcessError naming the command", async () => {
  const r = new RecordingRunner().on(["podman", "images"], { code: 125, stderr: "boom" });
  let message = "";
  try {
    await new PodmanRuntime(r, "podman", { rootless: false }).listImages();
  } catch (e) {
    message = (e as Error).message;
  }
  assertEquals(message, "podman images failed (exit 125):\nboom");
});

async function venvoyHomeWithSifs(): Promise<string> {
  const home = await tempDir("venvoy-list-images-");
  const envs = join(home, "environments");
  await Deno.mkdir(join(envs, "beta"), { recursive: true });
  await Deno.mkdir(join(envs, "alpha"), { recursive: true });
  await Deno.mkdir(join(envs, "empty"), { recursive: true });
  await Deno.writeTextFile(join(envs, "beta", "image.sif"), "sif-beta");
  await Deno.writeTextFile(join(envs, "alpha", "image.sif"), "sif-alpha!");
  await Deno.writeTextFile(join(envs, "alpha", "config.yaml"), "name: alpha\n");
  await Deno.writeTextFile(join(envs, "stray.sif"), "not in an environment folder");
  return home;
}

Deno.test("apptainer listImages: the SIFs in the environment folders, with no process spawned", async () => {
  const home = await venvoyHomeWithSifs();
  try {
    const r = new RecordingRunner({ env: { HOME: "/nonexistent", VENVOY_HOME: home } });
    const rows = await new ApptainerRuntime(r, "apptainer", { sifRoot: join(home, "environments") })
      .listImages({ ...MANAGED_LABELS });
    assertEquals(r.argvs, []);
    const alpha = join(home, "environments", "alpha", "image.sif");
    const beta = join(home, "environments", "beta", "image.sif");
    assertEquals(rows, [
      { id: alpha, refs: [alpha], labels: { ...MANAGED_LABELS }, size: 10 },
      { id: beta, refs: [beta], labels: { ...MANAGED_LABELS }, size: 8 },
    ]);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("apptainer listImages: other labels are read from each SIF and filtered on", async () => {
  const home = await venvoyHomeWithSifs();
  try {
    const alpha = join(home, "environments", "alpha", "image.sif");
    const beta = join(home, "environments", "beta", "image.sif");
    const labelsOf = (env: string) =>
      JSON.stringify({ data: { attributes: { labels: { "org.venvoy.env": env } } } });
    const r = new RecordingRunner({ env: { HOME: "/nonexistent", VENVOY_HOME: home } })
      .on(["apptainer", "inspect", "--json", "--labels", alpha], { stdout: labelsOf("alpha") })
      .on(["apptainer", "inspect", "--json", "--labels", beta], { stdout: labelsOf("beta") });
    const rows = await new ApptainerRuntime(r, "apptainer", { sifRoot: join(home, "environments") })
      .listImages({ "org.venvoy.env": "beta" });
    assertEquals(r.argvs, [
      ["apptainer", "inspect", "--json", "--labels", alpha],
      ["apptainer", "inspect", "--json", "--labels", beta],
    ]);
    assertEquals(rows.map((x) => [x.id, x.labels]), [
      [beta, { "org.venvoy.env": "beta", ...MANAGED_LABELS }],
    ]);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("apptainer listImages: no environments folder yet is an empty list", async () => {
  const home = await tempDir("venvoy-list-images-");
  try {
    const r = new RecordingRunner({ env: { HOME: "/x", VENVOY_HOME: join(home, "absent") } });
    assertEquals(
      await new ApptainerRuntime(r, "singularity", {
        sifRoot: join(home, "absent", "environments"),
      }).listImages(),
      [],
    );
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
