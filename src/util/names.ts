/** The one rule for environment names, used by every command. */
import { printable, UsageError } from "../ui/errors.ts";

export const NAME_RULE =
  "lower-case letters, digits, '.', '_' and '-', starting with a letter or digit, at most 63 characters";

const NAME_RE = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export function isValidName(name: string): boolean {
  return NAME_RE.test(name);
}

/** Returns the name, or throws a usage error (exit 2) that states the rule. */
export function validateName(name: string): string {
  if (!isValidName(name)) {
    throw new UsageError(`invalid environment name '${printable(name)}'`, {
      hint: `names use ${NAME_RULE}, e.g. my-project or cancer.study_2`,
    });
  }
  return name;
}

/** The image tag docker and podman use for an environment. */
export function imageTag(name: string): string {
  return `localhost/venvoy/${validateName(name)}:latest`;
}
