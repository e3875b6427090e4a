/** The one rule for environment names, used by every command. */
import { printable, UsageError, VenvoyError } from "../ui/errors.ts";

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

/**
 * The one rule for the environment a command is about when the user may leave it out: the
 * name given, else the only candidate (with a note saying so), else an error listing them.
 * `candidates` is what the command can act on (environments; for history, also snapshots).
 */
export function chooseEnvName(
  given: string | undefined,
  candidates: string[],
): { name: string; note: string | null } {
  if (given !== undefined) return { name: validateName(given), note: null };
  if (candidates.length === 1) {
    return { name: candidates[0], note: `using the only environment, '${candidates[0]}'` };
  }
  if (candidates.length === 0) {
    throw new VenvoyError("there are no environments yet", {
      hint: "create one: venvoy init --name my-project",
    });
  }
  throw new UsageError(
    `which environment? There are ${candidates.length}: ${candidates.join(", ")}`,
    { hint: `pass --name, e.g. --name ${candidates[0]}` },
  );
}
