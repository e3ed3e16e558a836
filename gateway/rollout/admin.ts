/**
 * The rollout endpoints, under the gateway's internal prefix, behind the
 * admin key (`x-admin-key`, checked like POST /admin/reload):
 * - `GET  /_cloudloom/rollouts[?route=<route key>]`: every rollout's status;
 * - `POST /_cloudloom/rollouts/pause|resume|abort[?route=<route key>]`.
 * `route` may be left out when the gateway runs one rollout.
 */
import type { IncomingMessage } from "node:http";
import type express from "express";
import type { Logger } from "pino";
import { ROLLOUTS_PATH, ServingError, toErrorResponse } from "../../runtime/contract";
import type { RolloutAction, RolloutController } from "./controller";

const ACTIONS = new Set<string>(["pause", "resume", "abort"] satisfies RolloutAction[]);

/** Longest route key `?route=` may carry (route keys are a method and a path). */
const MAX_ROUTE = 2_048;

/** The `route` query parameter: absent, or one string of sane length. */
function routeParameter(req: express.Request): string | undefined {
  const route = req.query.route;
  if (route === undefined) return undefined;
  if (typeof route !== "string" || route.length === 0 || route.length > MAX_ROUTE)
    throw new ServingError("INVALID_INPUT", "route must be one route key, e.g. ?route=POST%20/v1/intent");
  return route;
}

/** Adds the rollout endpoints to `app`; `check` admits a request with the admin key or rejects with the error to send. */
export function mountRolloutAdmin(
  app: express.Express,
  controller: RolloutController,
  check: (req: IncomingMessage) => Promise<void>,
  log: Logger,
): void {
  const answer = (work: (req: express.Request) => Promise<unknown>) => (req: express.Request, res: express.Response) =>
    void (async () => {
      try {
        await check(req);
        res.json(await work(req));
      } catch (error) {
        if (!(error instanceof ServingError)) log.error({ err: error, route: "rollouts" }, "rollout admin request failed");
        const { status, headers, body } = toErrorResponse(error);
        res.status(status).set(headers).json(body);
      }
    })();
  app.get(
    ROLLOUTS_PATH,
    answer(async (req) => ({ rollouts: await controller.status(routeParameter(req)) })),
  );
  app.post(
    `${ROLLOUTS_PATH}/:action`,
    answer(async (req) => {
      const action = String(req.params.action);
      if (!ACTIONS.has(action)) throw new ServingError("NOT_FOUND", "rollout actions are pause, resume and abort");
      return { rollout: await controller.act(action as RolloutAction, routeParameter(req)) };
    }),
  );
}
