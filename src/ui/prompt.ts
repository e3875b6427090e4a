/**
 * The one way venvoy asks a person something: @inquirer prompts, drawn on stderr (stdout
 * carries results). Ask only when `canAsk()`; without a terminal a command refuses with a
 * hint (--force, --yes) instead of waiting for input that cannot come.
 */
import { isTty } from "./output.ts";

/** Whether there is a person to ask: stdin and stderr are terminals. */
export function canAsk(): boolean {
  return isTty("stdin") && isTty("stderr");
}

async function context() {
  const { stderr } = await import("node:process");
  return { output: stderr };
}

/** A yes/no question; the answer is no unless `default` says otherwise. */
export async function confirm(message: string, options: { default?: boolean } = {}) {
  const { default: ask } = await import("@inquirer/confirm");
  return await ask({ message, default: options.default ?? false }, await context());
}

export interface Choice<T> {
  value: T;
  name: string;
}

/** One choice among `choices`. */
export async function select<T>(
  message: string,
  options: { choices: Choice<T>[]; default?: T },
): Promise<T> {
  const { default: ask } = await import("@inquirer/select");
  return await ask(
    { message, choices: options.choices, default: options.default },
    await context(),
  );
}
