import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import {
  buildSbom,
  condaPurl,
  ociPurl,
  osPurl,
  pypiPurl,
  renderSbom,
  type SbomInput,
  uuidV5,
} from "../../../src/sbom/cyclonedx.ts";
import { OS_QUERY_SCRIPT, parseOsQuery, queryOsPackages } from "../../../src/sbom/os.ts";
import { parseLockHashes, sbomInput } from "../../../src/sbom/mod.ts";
import type { EnvConfig } from "../../../src/env/config.ts";
import { PodmanRuntime } from "../../../src/runtime/podman.ts";
import { ApptainerRuntime } from "../../../src/runtime/apptainer.ts";
import { RecordingRunner } from "../../fakes/runner.ts";
import { validator } from "./validator.ts";
import { tempDir } from "../../fakes/tmp.ts";
import { envConfig } from "../../fakes/env_config.ts";
import { VenvoyError } from "../../../src/ui/errors.ts";

const HASH_A = "a".repeat(64);
const HASH_B = "b".repeat(64);

function input(over: Partial<SbomInput> = {}): SbomInput {
  return {
    name: "study",
    runtime: "python",
    engine: "podman",
    pythonVersion: "3.11",
    rVersion: null,
    asOf: "2020-01-01",
    imageId: "sha256:" + "c".repeat(64),
    imageRef: "localhost/venvoy/study:latest",
    architecture: "amd64",
    baseImage: "python:3.11-slim",
    baseImagePinned: "docker.io/library/python@sha256:" + "d".repeat(64),
    python: [
      { name: "six", version: "1.13.0", layer: "image", hashes: [HASH_B, HASH_A] },
      { name: "typing-extensions", version: "4.12.2+local", layer: "persist" },
    ],
    r: [{ name: "data.table", version: "1.15.4", layer: "image", source: "Repository" }],
    conda: [{ name: "libzlib", version: "1.3.1", layer: "image", channel: "conda-forge" }],
    os: {
      kind: "deb",
      distro: { id: "debian", versionId: "12" },
      packages: [
        { name: "libc6", version: "2.36-9+deb12u7", arch: "amd64" },
        { name: "base-files", version: "12.4+deb12u6", arch: "amd64" },
      ],
    },
    venvoyVersion: "0.9.0",
    ...over,
  };
}

Deno.test("purls: pypi normalised, versions encoded, OS with distro and arch, oci with digest", () => {
  assertEquals(
    pypiPurl("Typing_Extensions", "4.12.2+local"),
    "pkg:pypi/typing-extensions@4.12.2%2Blocal",
  );
  assertEquals(
    condaPurl("LibZlib", "1.3.1", "conda-forge"),
    "pkg:conda/libzlib@1.3.1?channel=conda-forge",
  );
  assertEquals(
    osPurl("deb", { name: "libc6", version: "2.36-9", arch: "amd64" }, {
      id: "debian",
      versionId: "12",
    }),
    "pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12",
  );
  assertEquals(
    osPurl("rpm", { name: "bash", version: "5.2-1.fc40", arch: "x86_64", epoch: "1" }, {
      id: "fedora",
      versionId: "40",
    }),
    "pkg:rpm/fedora/bash@5.2-1.fc40?arch=x86_64&distro=fedora-40&epoch=1",
  );
  assertEquals(
    ociPurl("docker.io/library/python", "sha256:" + "d".repeat(64)),
    `pkg:oci/python@sha256%3A${"d".repeat(64)}?repository_url=docker.io%2Flibrary%2Fpython`,
  );
  assertEquals(
    ociPurl("localhost/venvoy-lab/python:3.11", "sha256:" + "e".repeat(64)),
    `pkg:oci/python@sha256%3A${
      "e".repeat(64)
    }?repository_url=localhost%2Fvenvoy-lab%2Fpython&tag=3.11`,
  );
});

Deno.test("sbom: every package once, sorted, layers and hashes, base image, venvoy as the tool", async () => {
  const bom = await buildSbom(input());
  assertEquals(bom.bomFormat, "CycloneDX");
  assertEquals(bom.specVersion, "1.5");
  assert(
    /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(
      bom.serialNumber,
    ),
    bom.serialNumber,
  );
  const refs = bom.components.map((c: { "bom-ref": string }) => c["bom-ref"]);
  assertEquals(refs, [...refs].sort(), "sorted by bom-ref");
  assertEquals(bom.components.length, 2 + 1 + 1 + 2 + 1, "python, r, conda, os, base");
  const six = bom.components.find((c: { name: string }) => c.name === "six");
  assertEquals(six.purl, "pkg:pypi/six@1.13.0");
  assertEquals(six.hashes, [{ alg: "SHA-256", content: HASH_A }, {
    alg: "SHA-256",
    content: HASH_B,
  }]);
  assertEquals(six.properties, [
    { name: "venvoy:ecosystem", value: "python" },
    { name: "venvoy:layer", value: "image" },
  ]);
  const te = bom.components.find((c: { name: string }) => c.name === "typing-extensions");
  assertEquals(te.properties[1], { name: "venvoy:layer", value: "persist" });
  assertEquals(te.hashes, undefined);
  assert(refs.includes("pkg:cran/data.table@1.15.4"));
  const base = bom.components.find((c: { type: string }) => c.type === "container");
  assertEquals(
    base.purl,
    `pkg:oci/python@sha256%3A${"d".repeat(64)}?repository_url=docker.io%2Flibrary%2Fpython`,
  );
  assertEquals(base.hashes, [{ alg: "SHA-256", content: "d".repeat(64) }]);
  assertEquals(bom.metadata.tools.components[0].name, "venvoy");
  assertEquals(bom.metadata.tools.components[0].version, "0.9.0");
  assertEquals(bom.metadata.component.version, "sha256:" + "c".repeat(64));
  assert(
    bom.metadata.component.properties.some((p: { name: string; value: string }) =>
      p.name === "venvoy:as_of" && p.value === "2020-01-01"
    ),
  );
  assertEquals(bom.metadata.timestamp, undefined, "no clock in the document");
  assertEquals(bom.dependencies[0].dependsOn.length, bom.components.length);
});

Deno.test("sbom: the same facts give the same bytes; other facts another serialNumber", async () => {
  const a = await renderSbom(input());
  const b = await renderSbom(
    input({ os: { ...input().os, packages: [...input().os.packages].reverse() } }),
  );
  assertEquals(a, b);
  const c = await renderSbom(
    input({ python: [{ name: "six", version: "1.17.0", layer: "image" }] }),
  );
  assert(JSON.parse(a).serialNumber !== JSON.parse(c).serialNumber);
  // RFC 9562's own UUIDv5 example: DNS namespace, "www.example.com".
  assertEquals(
    await uuidV5("www.example.com", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"),
    "2ed6657d-e927-568b-95e1-2665a8aea6a2",
  );
});

Deno.test("sbom: a local base image (pinned by image ID) is pkg:oci with the ID", async () => {
  const bom = await buildSbom(input({
    baseImage: "localhost/venvoy-lab/python:3.11",
    baseImagePinned: "sha256:" + "e".repeat(64),
  }));
  const base = bom.components.find((c: { type: string }) => c.type === "container");
  assertEquals(
    base.purl,
    `pkg:oci/python@sha256%3A${
      "e".repeat(64)
    }?repository_url=localhost%2Fvenvoy-lab%2Fpython&tag=3.11`,
  );
  assert(base.properties.some((p: { value: string }) => p.value === "image-id"));
});

Deno.test("os query output: deb, rpm (epoch), apk; duplicates and blank lines dropped", () => {
  const deb = parseOsQuery(
    "@@os-release\nid\tdebian\nversion_id\t12\n@@deb\nzlib1g\t1:1.2.13\tamd64\nbash\t5.2.15-2\tamd64\n\nbash\t5.2.15-2\tamd64\n",
  );
  assertEquals(deb.kind, "deb");
  assertEquals(deb.distro, { id: "debian", versionId: "12" });
  assertEquals(deb.packages.map((p) => p.name), ["bash", "zlib1g"]);
  const rpm = parseOsQuery(
    "@@os-release\nid\tfedora\nversion_id\t40\n@@rpm\nbash\t5.2-1\tx86_64\t1\ncurl\t8.6-1\tx86_64\t(none)\n",
  );
  assertEquals(rpm.packages, [
    { name: "bash", version: "5.2-1", arch: "x86_64", epoch: "1" },
    { name: "curl", version: "8.6-1", arch: "x86_64" },
  ]);
  const apk = parseOsQuery(
    "@@os-release\nid\talpine\nversion_id\t3.20.0\n@@apk\nmusl\t1.2.5-r0\tx86_64\n",
  );
  assertEquals(apk.kind, "apk");
  assertEquals(apk.packages, [{ name: "musl", version: "1.2.5-r0", arch: "x86_64" }]);
  const none = parseOsQuery("@@os-release\nid\t\nversion_id\t\n");
  assertEquals(none, { kind: null, distro: null, packages: [] });
});

Deno.test("os query: one run through the adapter, exact argv (podman, apptainer)", async () => {
  const r = new RecordingRunner();
  r.on(["/usr/bin/podman", "run"], (req) => {
    const src = /source=([^,]+),target=\/opt\/venvoy\/out/.exec(req.cmd.join(" "))![1];
    Deno.writeTextFileSync(
      join(src, "os.txt"),
      "@@os-release\nid\tdebian\nversion_id\t12\n@@deb\nbash\t5\tamd64\n",
    );
    return {};
  });
  const podman = new PodmanRuntime(r, "/usr/bin/podman", { rootless: false });
  const res = await queryOsPackages(podman, "localhost/venvoy/study:latest", {
    user: { uid: 1000, gid: 1000 },
  });
  assertEquals(res.packages, [{ name: "bash", version: "5", arch: "amd64" }]);
  const argv = r.argvs[0];
  const tmp = /source=([^,]+)/.exec(argv.join(" "))![1];
  assertEquals(argv, [
    "/usr/bin/podman",
    "run",
    "--rm",
    "--user",
    "1000:1000",
    "--label",
    "org.venvoy.managed=true",
    "--mount",
    `type=bind,source=${tmp},target=/opt/venvoy/out`,
    "localhost/venvoy/study:latest",
    "sh",
    "-c",
    OS_QUERY_SCRIPT,
  ]);
  assert(!(await Deno.stat(tmp).then(() => true, () => false)), "the temporary folder is removed");

  // An image that cannot run is an error with a hint (export falls back without OS packages).
  const failing = new RecordingRunner().on(["/usr/bin/apptainer"], { code: 255 });
  const app = new ApptainerRuntime(failing, "/usr/bin/apptainer");
  await assert.rejects(
    () => queryOsPackages(app, "/x/image.sif"),
    /could not list the OS packages/,
  );
  assertEquals(failing.argvs[0].slice(0, 2), ["/usr/bin/apptainer", "exec"]);
});

Deno.test("issue 18.6: an os.txt the container made a link or a FIFO is not read", async () => {
  const host = await Deno.makeTempFile();
  await Deno.writeTextFile(host, "@@os-release\nid\thostos\n@@deb\nhostsecret\t1\tamd64\n");
  try {
    for (const kind of ["link", "fifo"]) {
      const r = new RecordingRunner();
      r.on(["/usr/bin/podman", "run"], (req) => {
        const src = /source=([^,]+),target=\/opt\/venvoy\/out/.exec(req.cmd.join(" "))![1];
        const os = join(src, "os.txt");
        if (kind === "link") Deno.symlinkSync(host, os);
        else new Deno.Command("mkfifo", { args: [os] }).outputSync();
        return {};
      });
      const podman = new PodmanRuntime(r, "/usr/bin/podman", { rootless: false });
      await assert.rejects(
        () => queryOsPackages(podman, "localhost/venvoy/study:latest"),
        (e: unknown) =>
          e instanceof VenvoyError &&
          /the container's os\.txt: (it is a link|not a regular file); it was not read/
            .test(e.message),
        kind,
      );
    }
  } finally {
    await Deno.remove(host);
  }
});

Deno.test("requirements.lock hashes: per package, several wheels, PEP 503 names", () => {
  const lock = parseLockHashes(
    "# venvoy freeze\nSix==1.13.0 \\\n    --hash=sha256:" + HASH_A + " \\\n    --hash=sha256:" +
      HASH_B +
      "\ntyping_extensions==4.12.2 \\\n    --hash=sha256:" + "C".repeat(64) + "\n",
  );
  assertEquals(lock.get("six"), { version: "1.13.0", hashes: [HASH_A, HASH_B] });
  assertEquals(lock.get("typing-extensions"), { version: "4.12.2", hashes: ["c".repeat(64)] });
});

async function envFixture(): Promise<{ dir: string; config: EnvConfig }> {
  const dir = await tempDir("venvoy-sbom-env-");
  await Deno.writeTextFile(
    join(dir, "base-packages.json"),
    JSON.stringify({
      python: [{ name: "pip", version: "23.0.1" }, { name: "six", version: "1.13.0" }],
      r: [],
      conda: [],
      os: [{ name: "bash", version: "5" }],
    }),
  );
  const site = join(dir, "persist", "python", "lib", "python3.11", "site-packages");
  await Deno.mkdir(join(site, "attrs-24.2.0.dist-info"), { recursive: true });
  // persist/ shadows the image: six 1.16.0 there wins over the image's 1.13.0.
  await Deno.mkdir(join(site, "six-1.16.0.dist-info"), { recursive: true });
  await Deno.writeTextFile(
    join(dir, "requirements.lock"),
    `pip==23.0.1 \\\n    --hash=sha256:${HASH_A}\nsix==1.13.0 \\\n    --hash=sha256:${HASH_B}\n`,
  );
  const config: EnvConfig = envConfig({
    name: "study",
    base_image: "localhost/venvoy-lab/python:3.11",
    base_image_pinned: "sha256:" + "e".repeat(64),
    image_id: "sha256:" + "c".repeat(64),
    venvoy_version: "0.9.0",
  });
  return { dir, config };
}

Deno.test("sbom input: image and persist packages, lock hashes only for the same version", async () => {
  const { dir, config } = await envFixture();
  try {
    const inp = await sbomInput({
      envDir: dir,
      config,
      image: config.image,
      imageId: config.image_id,
      os: { kind: "deb", distro: { id: "debian", versionId: "12" }, packages: [] },
      venvoyVersion: "0.9.0",
    });
    assertEquals(inp.python, [
      { name: "attrs", version: "24.2.0", layer: "persist" },
      { name: "pip", version: "23.0.1", layer: "image", hashes: [HASH_A] },
      { name: "six", version: "1.16.0", layer: "persist" },
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sbom validates against the official CycloneDX 1.5 schema (cyclonedx-python-lib)", async (t) => {
  const v = await validator();
  if (typeof v === "string") {
    console.error(`SKIP CycloneDX schema validation: ${v}`);
    return;
  }
  const dir = await tempDir("venvoy-sbom-valid-");
  try {
    const cases: [string, SbomInput][] = [
      ["deb, pypi, cran, conda, registry base", input()],
      [
        "rpm with epoch, local base",
        input({
          os: {
            kind: "rpm",
            distro: { id: "fedora", versionId: "40" },
            packages: [{ name: "bash", version: "5.2-1", arch: "x86_64", epoch: "1" }],
          },
          baseImage: "localhost/venvoy-lab/python:3.11",
          baseImagePinned: "sha256:" + "e".repeat(64),
          asOf: null,
        }),
      ],
      [
        "apk, no image id, empty lists",
        input({
          os: {
            kind: "apk",
            distro: { id: "alpine", versionId: "3.20.0" },
            packages: [{ name: "musl", version: "1.2.5-r0" }],
          },
          imageId: null,
          python: [],
          r: [],
          conda: [],
        }),
      ],
    ];
    for (const [what, inp] of cases) {
      await t.step(what, async () => {
        const path = join(dir, "bom.json");
        await Deno.writeTextFile(path, await renderSbom(inp));
        const res = await v(path);
        assert(res.ok, res.output);
      });
    }
    // The validator is real: a document breaking the schema is rejected.
    const broken = JSON.parse(await renderSbom(input()));
    broken.components[0].hashes = [{ alg: "SHA-256", content: "not-hex" }];
    const path = join(dir, "broken.json");
    await Deno.writeTextFile(path, JSON.stringify(broken));
    assert(!(await v(path)).ok, "a bad hash must fail validation");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
