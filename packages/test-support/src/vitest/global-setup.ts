// Vitest's global set-up in local mode: one supervisor for the whole Vitest run (unless the runner already
// started one for every package), so every test file and worker shares one engine of each kind.
import { startSupervisor } from "../local/client.js";
import { LOCAL_ENGINES_VARIABLE } from "../local/protocol.js";
import { describeEngines } from "../local/summary.js";

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  if (process.env[LOCAL_ENGINES_VARIABLE]) return undefined;
  const supervisor = await startSupervisor(process.env, { keepAlive: true });
  // Workers are started after this, with this environment.
  process.env[LOCAL_ENGINES_VARIABLE] = supervisor.url;
  return async () => {
    const stats = await supervisor.stop();
    delete process.env[LOCAL_ENGINES_VARIABLE];
    if (stats) for (const line of describeEngines(stats)) console.log(`[test-support] ${line}`);
  };
}
