/**
 * The one template filler: every `{{KEY}}` (upper-case letters and `_`) in the files of
 * templates/ is replaced by its value. A key without a value is a bug in venvoy, not a
 * blank. Values are inserted as given: callers quote them for the target format first.
 */
export function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{([A-Z_]+)\}\}/g, (_whole, key: string) => {
    if (!Object.hasOwn(values, key)) throw new Error(`internal: template value ${key} missing`);
    return values[key];
  });
}
