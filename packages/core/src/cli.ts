/**
 * A subcommand of the `lw` CLI, contributed by a package (`lw rsa`, `lw data things`, ...).
 * The shape is yargs' CommandModule, kept structural so that packages need not depend on yargs.
 * `command` uses yargs syntax, e.g. `rsa` or `data things`; nested words make nested commands.
 */
export interface CliCommand {
  command: string;
  describe: string;
  // yargs' Argv is deliberately untyped here: each command declares its own options.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  builder: (yargs: any) => any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  handler: (argv: any) => Promise<void>;
}
