/**
 * The one allow-list of an archive's `env/`: what `venvoy export` may write there, and so
 * exactly what `venvoy import` takes from there. Everything else in an archive's env/ (a
 * parsed-config cache, a SIF, a session stamp, a credential file, anything new) is the
 * author's, not venvoy's: export never writes it, and import leaves it out.
 */

/**
 * What of the environment folder goes into an archive, by path relative to it. Nothing
 * else does: an archive holds the environment, never anything personal. persist/home (the
 * $HOME of --no-home sessions: tokens, .netrc, shell history), persist/cache, build logs
 * and venvoy's regenerated support files stay behind.
 */
export const ARCHIVE_ALLOW = {
  /** Regular files at the top of the environment folder. */
  files: [
    "config.yaml",
    "Dockerfile",
    "venvoy.def",
    "requirements.txt",
    "requirements-dev.txt",
    "packages.txt",
    "environment.yml",
    "base-packages.json",
    "requirements.lock",
  ],
  /** Folders taken whole (packages only: wheels and sources, session installs). */
  trees: ["vendor", "persist/python", "persist/R/library", "persist/conda"],
} as const;

/**
 * Files that hold credentials, refused even inside an allowed folder (a venv's pip.conf
 * may carry an index token, a conda prefix its .condarc).
 */
const PERSONAL_NAME =
  /^(\.netrc|_netrc|\.pypirc|pip\.conf|pip\.ini|\.condarc|\.git-credentials|\.npmrc|\.Renviron|\.env|\.[A-Za-z0-9_]*history)$/;

/**
 * Where `rel` (a '/'-separated path relative to the environment folder) stands:
 * - `file`: an allowed top-level file;
 * - `tree`: inside (or at) an allowed folder, and not a credential file;
 * - `way`: a folder on the way to an allowed folder (`persist`, `persist/R`), to descend;
 * - `personal`: a credential file inside an allowed folder, left out;
 * - `null`: not on the list.
 */
export function envAllowance(rel: string): "file" | "tree" | "way" | "personal" | null {
  const files: readonly string[] = ARCHIVE_ALLOW.files;
  const trees: readonly string[] = ARCHIVE_ALLOW.trees;
  const tree = trees.find((t) => rel === t || rel.startsWith(`${t}/`));
  if (!tree && files.includes(rel)) return "file";
  if (!tree) return trees.some((t) => t.startsWith(`${rel}/`)) ? "way" : null;
  return PERSONAL_NAME.test(rel.slice(rel.lastIndexOf("/") + 1)) ? "personal" : "tree";
}

/** The allowed folder `rel` is in (`persist/python`), or null. */
export function allowedTree(rel: string): string | null {
  const trees: readonly string[] = ARCHIVE_ALLOW.trees;
  return trees.find((t) => rel === t || rel.startsWith(`${t}/`)) ?? null;
}
