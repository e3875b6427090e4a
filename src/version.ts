/** venvoy's own version, from deno.json (one place; the CLI and commands read it here). */
import denoJson from "../deno.json" with { type: "json" };

export const VERSION: string = denoJson.version;
