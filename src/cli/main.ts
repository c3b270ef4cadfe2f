// The `qala` command line. Exit codes: 0 success, 1 usage or local error,
// 2 server/API error, 3 authentication or permission error; `qala run` exits
// with the child's code.
import { CommanderError } from "commander";
import { AuthError, QalaError } from "../sdk/index.js";
import "./commands/session.js";
import "./commands/secrets.js";
import "./commands/run.js";
import "./commands/admin.js";
import { UsageError, program } from "./context.js";

async function main(argv: string[]) {
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? 0 : 1;
      return;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`qala: ${error.message}\n`);
      process.exitCode = 1;
    } else if (error instanceof QalaError) {
      process.stderr.write(
        `qala: ${error.message} (${error.code}${error.requestId ? `, ${error.requestId}` : ""})\n`,
      );
      process.exitCode = error instanceof AuthError ? 3 : 2;
    } else {
      process.stderr.write(`qala: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    }
  }
}

void main(process.argv);
