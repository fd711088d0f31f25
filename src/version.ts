/** The version printed by `--version` and the start-up banner, embedded at build time. */
import packageJson from "../package.json" with { type: "json" };

export const VERSION: string = packageJson.version;
