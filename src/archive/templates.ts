/** restore.sh and README.md for an archive, rendered from templates/archive/. */
import restoreTemplate from "../../templates/archive/restore.sh" with { type: "text" };
import readmeTemplate from "../../templates/archive/README.md" with { type: "text" };
import { shellQuote } from "../process/mod.ts";
import { fill } from "../util/template.ts";
import type { Manifest } from "./manifest.ts";

/** Values are shell-quoted: nothing in the manifest can inject shell code. */
export function renderRestoreScript(m: Manifest): string {
  const q = (s: string | null | undefined) => shellQuote(s ?? "");
  return fill(restoreTemplate, {
    ENV_NAME: q(m.environment.name),
    IMAGE_TAG: q(m.image.tag),
    IMAGE_ID: q(m.image.id),
    DOCKER_ARCHIVE: q(m.image.docker_archive),
    SIF_MEMBER: q(m.image.sif),
  });
}

export function renderReadme(m: Manifest): string {
  return fill(readmeTemplate, {
    ENV_NAME: m.environment.name,
    CREATED: m.created,
    VENVOY_VERSION: m.venvoy_version,
    ENGINE: m.engine,
    HOST: `${m.host.system}/${m.host.architecture}`,
    IMAGE_ARCH: m.image.architecture ?? "unknown",
    IMAGE_TAG: m.image.tag ?? "(none)",
    IMAGE_ID: m.image.id ?? "(unknown)",
    BASE: m.image.base ?? "(unknown)",
    DOCKER_ARCHIVE_OR_NONE: m.image.docker_archive ?? "(none: SIF only)",
    SIF_OR_NONE: m.image.sif ?? "(none)",
  });
}
