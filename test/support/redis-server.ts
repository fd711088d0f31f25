/**
 * A real Redis for the tests: Debian's `redis-server`, started on a free loopback port with a
 * temporary folder and no persistence, and stopped after. `stop()` and `start()` again on the same
 * port is how the tests take Redis away mid-run and bring it back.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestRedis {
  url: string;
  port: number;
  /** Stop the server (its data is gone: no persistence). */
  stop(): Promise<void>;
  /** Start it again on the same port. */
  start(): Promise<void>;
  /** Stop it for good and remove its folder. */
  dispose(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

function answersPing(port: number, password: string | undefined): boolean {
  const auth = password === undefined ? [] : ["--no-auth-warning", "-a", password];
  const ping = Bun.spawnSync(["redis-cli", "-h", "127.0.0.1", "-p", String(port), ...auth, "ping"], { stdout: "pipe", stderr: "ignore" });
  return ping.stdout.toString().trim() === "PONG";
}

/**
 * `password`: Redis refuses clients without it (`requirepass`), and `url` carries it. `persist`:
 * `stop()` shuts Redis down gracefully, writing its data, and `start()` loads it again (without
 * it, a stopped Redis comes back empty, as after a crash).
 */
export async function startRedis(options: { password?: string; persist?: boolean } = {}): Promise<TestRedis> {
  if (Bun.which("redis-server") === null) throw new Error("redis-server is not installed (apt-get install -y redis-server); .ci/run installs it.");
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "lkp-redis-"));
  let proc: ReturnType<typeof Bun.spawn> | undefined;

  const start = async (): Promise<void> => {
    const auth = options.password === undefined ? [] : ["--requirepass", options.password];
    const save = options.persist ? ["3600", "1"] : [""];
    proc = Bun.spawn(["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", ...save, "--appendonly", "no", "--loglevel", "warning", ...auth], { stdout: "ignore", stderr: "pipe" });
    const deadline = Date.now() + 10_000;
    while (!answersPing(port, options.password)) {
      if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${port} within 10 s`);
      await Bun.sleep(20);
    }
  };
  const stop = async (): Promise<void> => {
    if (!proc) return;
    proc.kill(options.persist ? "SIGTERM" : "SIGKILL");
    await proc.exited;
    proc = undefined;
  };
  await start();
  return {
    url: options.password === undefined ? `redis://127.0.0.1:${port}` : `redis://:${encodeURIComponent(options.password)}@127.0.0.1:${port}`,
    port,
    start,
    stop,
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
