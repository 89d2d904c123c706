// Entry of the supervisor process (spawned by client.ts); "supervisor" in its path is how a later run tells
// a live supervisor from a dead one's reused pid.
import { runSupervisor } from "./supervisor.js";

await runSupervisor();
