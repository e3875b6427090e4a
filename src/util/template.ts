/** Filling venvoy's text templates (templates/): one placeholder syntax, @@KEY@@. */

/** Replaces every @@KEY@@; a key without a value is a bug, not a blank. */
export function fill(template: string, values: Record<string, string>): string {
  return template.replace(/@@([A-Z_]+)@@/g, (_whole, key: string) => {
    if (!(key in values)) throw new Error(`internal: template value ${key} missing`);
    return values[key];
  });
}
