/** Runs the CLI in-process and captures what it prints. */
import { main } from "../../cli/main";
import type { CommandIo } from "../../cli/io";

/** The exit code and output of `cloudloom ...argv`. */
export async function runCli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: CommandIo = { out: (t) => void (out += t), err: (t) => void (err += t) };
  const code = await main(argv, io);
  return { code, out, err };
}
