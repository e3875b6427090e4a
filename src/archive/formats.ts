/** What export writes and import takes: light constants, for the commands' help and errors. */
import type { ExportFormat } from "./mod.ts";

/** The formats `export` writes. */
export const EXPORT_FORMATS = [
  "yaml",
  "dockerfile",
  "tarball",
  "archive",
] as const satisfies readonly ExportFormat[];

/** What `venvoy import` takes, for its help and its usage errors. */
export const IMPORT_ACCEPTS =
  "an environment.yml (venvoy export --format yaml, or conda's format), a Dockerfile written " +
  "by venvoy export --format dockerfile, a venvoy tarball (--format tarball; rebuilt offline) " +
  "or a venvoy archive (venvoy export --format archive)";
