/** config.yaml's contents for tests: a Python 3.11 environment built with podman. */
import type { EnvConfig } from "../../src/env/config.ts";

/** An EnvConfig named `overrides.name` (default "demo"), its image named after it. */
export function envConfig(overrides: Partial<EnvConfig> = {}): EnvConfig {
  const name = overrides.name ?? "demo";
  return {
    name,
    runtime: "python",
    python_version: "3.11",
    r_version: null,
    created: "2026-01-01T00:00:00Z",
    host: { system: "linux", architecture: "amd64" },
    engine: "podman",
    base_image: "b",
    base_image_pinned: "b",
    image: `localhost/venvoy/${name}:latest`,
    image_id: null,
    packages: [],
    dev_packages: [],
    package_manager: "pip",
    venvoy_version: "0.1.0",
    ...overrides,
  };
}
