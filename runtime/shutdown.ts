/** Graceful HTTP shutdown. */
import type { Server } from "node:http";

/**
 * Stops accepting connections and resolves once every request in flight has
 * finished. Keep-alive connections go idle as their last response ends and
 * are closed as they do.
 */
export async function closeGracefully(server: Server | undefined): Promise<void> {
  if (!server?.listening) return;
  const sweep = setInterval(() => server.closeIdleConnections(), 25);
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
  clearInterval(sweep);
}
