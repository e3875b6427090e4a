/** What `venvoy import` takes, for its help and its usage errors (a light module: the help loads it). */
export const IMPORT_ACCEPTS =
  "an environment.yml (venvoy export --format yaml, or conda's format), a Dockerfile written " +
  "by venvoy export --format dockerfile, a venvoy tarball (--format tarball; rebuilt offline) " +
  "or a venvoy archive (venvoy export --format archive)";
