/** environment.yml texts for tests. */

/** A Python 3.11 environment.yml naming its base image in x-venvoy (line 7). */
export function environmentYmlWithBase(name: string, base: string): string {
  return [
    `name: ${name}`,
    "dependencies:",
    "  - python=3.11",
    "x-venvoy:",
    '  format: "1"',
    "  runtime: python",
    `  base_image: ${JSON.stringify(base)}`,
    "",
  ].join("\n");
}
