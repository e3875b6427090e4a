/** A standalone Dockerfile's spec for tests: an online Python 3.11 environment, pinned base. */
import type { StandaloneSpec } from "../../src/recipe/standalone.ts";

export function standaloneSpec(overrides: Partial<StandaloneSpec> = {}): StandaloneSpec {
  return {
    name: "demo",
    runtime: "python",
    version: "3.11",
    baseImage: "python:3.11-slim",
    basePinned: `docker.io/library/python@sha256:${"c".repeat(64)}`,
    venvoyVersion: "0.1.0",
    python: [],
    r: [],
    conda: [],
    offline: false,
    ...overrides,
  };
}
