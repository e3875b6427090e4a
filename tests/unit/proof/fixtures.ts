/** A valid run record for the proof tests. */
import { createHash } from "node:crypto";
import type { RunRecord } from "../../../src/proof/record.ts";

const sha = (s: string) => createHash("sha256").update(s).digest("hex");
export const IMAGE_ID = `sha256:${"ab".repeat(32)}`;

export function validRecord(): RunRecord {
  return {
    format: "venvoy-record",
    format_version: 1,
    id: "20261201_100007",
    environment: "study",
    command: "python fit.py",
    workdir: "/w",
    image: "localhost/venvoy/study:latest",
    image_id: IMAGE_ID,
    snapshot: "20261201_100000",
    engine: "podman",
    architecture: "x86_64",
    os: "linux",
    started: "2026-12-01T10:00:00Z",
    ended: "2026-12-01T10:00:07Z",
    exit_code: 0,
    input_paths: ["data"],
    output_paths: ["out"],
    inputs: [{ path: "data/a", type: "file", size: 1, sha256: sha("a") }],
    outputs: [{ path: "out/r", type: "file", size: 1, sha256: sha("r") }],
    missing_outputs: [],
    venvoy_version: "0.1.0",
  };
}
