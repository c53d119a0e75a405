// A TCP port nobody listens on right now, for the health/metrics server of an operator started by
// a test or the benchmark (several run side by side, and next to a developer's own).
//
// Not the kernel's pick (listen on port 0): that comes from the ephemeral range, where the next
// caller (a test file beside this one) or an outgoing connection may get the same port in the
// moment before the operator binds it, and an operator then exited on EADDRINUSE in a chaos run.
// A random port below the ephemeral range and the cluster's fixed ports (16443 and up), checked on
// the wildcard address the operator binds, makes that a one-in-thousands coincidence.
import net from "node:net";

const FIRST = 12_000;
const LAST = 15_999;

export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = FIRST + Math.floor(Math.random() * (LAST - FIRST + 1));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port in ${FIRST}-${LAST}`);
}

/** Whether a server can listen on `port` on every address (as the operator's does). */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, () => server.close(() => resolve(true)));
  });
}
