/**
 * Runs the real setup wizard on this process's terminal, for setup-wizard.test.ts, which
 * starts it inside tmux. Usage: `bun setup-wizard-runner.ts <env path> <result file>`.
 * The result ("saved", "cancelled", "unchanged" or "error: …") goes to the result file, so
 * the test learns how the wizard ended without scraping the screen.
 */

import { writeFileSync } from "node:fs";
import { runSetupWizard } from "../../setup/wizard.ts";

const [envPath, resultPath] = process.argv.slice(2);
if (envPath === undefined || resultPath === undefined) throw new Error("usage: setup-wizard-runner.ts <env path> <result file>");
try {
  writeFileSync(resultPath, await runSetupWizard({ envPath }));
} catch (error) {
  writeFileSync(resultPath, `error: ${error instanceof Error ? error.message : String(error)}`);
}
process.exit(0);
