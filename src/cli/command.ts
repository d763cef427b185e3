// The shape every CLI command implements; main.ts dispatches on the name.
export interface CliCommand {
  name: string;
  summary: string;
  usage: string;
  run(argv: string[]): Promise<void>;
}
