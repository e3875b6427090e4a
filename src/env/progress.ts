/** Progress for long steps on stderr: a spinner on a terminal, plain lines otherwise. */
import { colorEnabled, info, isTty } from "../ui/output.ts";

export async function withProgress<T>(
  label: string,
  fn: () => Promise<T>,
  options: { quiet?: boolean } = {},
): Promise<T> {
  const started = performance.now();
  const seconds = () => ((performance.now() - started) / 1000).toFixed(1);
  if (options.quiet) return await fn();
  if (isTty("stderr") && colorEnabled("stderr")) {
    const { default: yoctoSpinner } = await import("yocto-spinner");
    const spinner = yoctoSpinner({ text: label }).start();
    try {
      const result = await fn();
      spinner.success(`${label} (${seconds()} s)`);
      return result;
    } catch (e) {
      spinner.error(label);
      throw e;
    }
  }
  info(`${label} ...`);
  const result = await fn();
  info(`${label}: done (${seconds()} s)`);
  return result;
}
