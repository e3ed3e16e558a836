/** Functions must fit the chosen target's memory and timeout limits. */
import { FUNCTION_LIMITS, TARGETS, type Range } from "../targets";
import { toMegabytes, toSeconds } from "../units";
import { entries, type Rule } from "./report";

const LOOSEST: { memoryMb: Range; timeoutSeconds: Range } = {
  memoryMb: {
    min: Math.min(...TARGETS.map((t) => FUNCTION_LIMITS[t].memoryMb.min)),
    max: Math.max(...TARGETS.map((t) => FUNCTION_LIMITS[t].memoryMb.max)),
  },
  timeoutSeconds: {
    min: Math.min(...TARGETS.map((t) => FUNCTION_LIMITS[t].timeoutSeconds.min)),
    max: Math.max(...TARGETS.map((t) => FUNCTION_LIMITS[t].timeoutSeconds.max)),
  },
};

/** Checks memory and timeout against the target's limits, or every target's loosest. */
export const functionLimitsRule: Rule = (spec, context, report) => {
  const limits = context.target ? FUNCTION_LIMITS[context.target] : LOOSEST;
  const where = context.target ? `${FUNCTION_LIMITS[context.target].source}` : "every target";
  for (const [name, fn] of entries(spec.functions)) {
    const memory = toMegabytes(fn.memory);
    if (memory < limits.memoryMb.min || memory > limits.memoryMb.max) {
      report(
        "CL_MEMORY_OUT_OF_RANGE",
        `functions.${name}.memory`,
        `${fn.memory} is outside ${limits.memoryMb.min}–${limits.memoryMb.max} MB (${where})`,
        `choose memory between ${limits.memoryMb.min} MB and ${limits.memoryMb.max} MB`,
      );
    }
    const timeout = toSeconds(fn.timeout);
    if (timeout < limits.timeoutSeconds.min || timeout > limits.timeoutSeconds.max) {
      report(
        "CL_TIMEOUT_OUT_OF_RANGE",
        `functions.${name}.timeout`,
        `${fn.timeout} is outside ${limits.timeoutSeconds.min}–${limits.timeoutSeconds.max} seconds (${where})`,
        `choose a timeout between ${limits.timeoutSeconds.min} and ${limits.timeoutSeconds.max} seconds`,
      );
    }
  }
};
