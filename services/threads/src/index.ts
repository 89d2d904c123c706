export { type Message, type Thread, ThreadsService } from "./gen/threads/v1/threads_pb.js";
export {
  completionResponse,
  createProviderServer,
  deterministicAnswer,
  FAIL_MID_STREAM,
  streamCompletion,
} from "./provider.js";
export { createThreadsServer } from "./server.js";
export {
  type Clock,
  createThreadsService,
  MAX_BODY,
  RATE_WINDOW_MS,
  systemClock,
  type ThreadsDependencies,
} from "./service.js";
