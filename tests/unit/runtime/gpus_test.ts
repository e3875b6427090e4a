import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { RecordingRunner } from "../../fakes/runner.ts";
import { DockerRuntime } from "../../../src/runtime/docker.ts";
import { PodmanRuntime } from "../../../src/runtime/podman.ts";
import { ApptainerRuntime } from "../../../src/runtime/apptainer.ts";
import type { RunSpec } from "../../../src/runtime/types.ts";

const spec: RunSpec = {
  image: "img",
  command: ["nvidia-smi"],
  env: { CUDA_VISIBLE_DEVICES: "0,1" },
  gpus: true,
};

Deno.test("--gpus: apptainer --nv (after --cleanenv)", () => {
  const a = new ApptainerRuntime(new RecordingRunner(), "apptainer");
  assertEquals(a.runArgv({ ...spec, image: "/e/image.sif" }), [
    "apptainer",
    "exec",
    "--cleanenv",
    "--nv",
    "/e/image.sif",
    "nvidia-smi",
  ]);
});

Deno.test("--gpus: podman --device nvidia.com/gpu=all (CDI), rootful and rootless", () => {
  const rootful = new PodmanRuntime(new RecordingRunner(), "podman", { rootless: false });
  assertEquals(rootful.runArgv({ ...spec, user: { uid: 1000, gid: 100 } }), [
    "podman",
    "run",
    "--rm",
    "--user",
    "1000:100",
    "--device",
    "nvidia.com/gpu=all",
    "-e",
    "CUDA_VISIBLE_DEVICES=0,1",
    "img",
    "nvidia-smi",
  ]);
  const rootless = new PodmanRuntime(new RecordingRunner(), "podman", { rootless: true });
  assertEquals(rootless.runArgv(spec), [
    "podman",
    "run",
    "--rm",
    "--device",
    "nvidia.com/gpu=all",
    "-e",
    "CUDA_VISIBLE_DEVICES=0,1",
    "img",
    "nvidia-smi",
  ]);
});

Deno.test("--gpus: docker --gpus all", () => {
  const d = new DockerRuntime(new RecordingRunner(), "docker");
  assertEquals(d.runArgv(spec), [
    "docker",
    "run",
    "--gpus",
    "all",
    "-e",
    "CUDA_VISIBLE_DEVICES=0,1",
    "img",
    "nvidia-smi",
  ]);
});

Deno.test("without gpus no engine adds a GPU flag", () => {
  const plain = { ...spec, gpus: undefined };
  const all = [
    new ApptainerRuntime(new RecordingRunner()).runArgv(plain),
    new PodmanRuntime(new RecordingRunner(), "podman", { rootless: true }).runArgv(plain),
    new DockerRuntime(new RecordingRunner()).runArgv(plain),
  ].flat();
  assertEquals(all.filter((a) => ["--nv", "--device", "--gpus"].includes(a)), []);
});
