export { type Message, type Thread, ThreadsService } from "./gen/threads/v1/threads_pb.js";
export {
  completionResponse,
  createProviderServer,
  deterministicAnswer,
  FAIL_MID_STREAM,
  streamCompletion,
} from "./provider.js";
export { createThreadsServer } from "./server.js";
export { createThreadsService, MAX_BODY, type ThreadsDependencies } from "./service.js";
