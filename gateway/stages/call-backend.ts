/** Calls the target's backend in the best region, with failover (see invoke.ts), streaming its response to the client when it can. */
import type { Exchange, Stage } from "../exchange";
import { invokeStreaming, type CallPolicy } from "../invoke";

async function call(calls: CallPolicy, exchange: Exchange): Promise<void> {
  const { result, region } = await invokeStreaming(calls, exchange, exchange.backendRequest());
  exchange.record.region = region;
  if (typeof result === "number") exchange.answered = true;
  else exchange.answer(result, region);
}

/** Answers the request from its target under `calls` (the retry budget, spill threshold and upstream error counts). */
export function callBackend(calls: CallPolicy): Stage {
  return {
    run(exchange) {
      return call(calls, exchange);
    },
  };
}
