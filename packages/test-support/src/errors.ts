/** Every failure test-support raises has one of these codes. */
export type TestSupportErrorCode =
  | "INVALID_MODE"
  | "INVALID_OPTIONS"
  | "MISSING_VARIABLES"
  | "MODE_CONFLICT"
  | "CONNECT_TIMEOUT"
  | "CONNECT_FAILED"
  | "SETUP_TIMEOUT"
  | "OPERATION_TIMEOUT"
  | "UNSUPPORTED_BY_DOUBLE"
  | "UNSAFE_COMMAND"
  | "CONNECTION_BUDGET"
  | "UNSAFE_CLEANUP"
  | "MIGRATION_FAILED"
  | "RESET_FAILED"
  | "CLOSE_FAILED"
  | "CLOSED";

/** The one error class of @org/test-support: what failed, then the likely cause and the fix. */
export class TestSupportError extends Error {
  override readonly name = "TestSupportError";
  readonly code: TestSupportErrorCode;

  constructor(code: TestSupportErrorCode, message: string, options?: { cause?: unknown }) {
    super(`[test-support] ${message}`, options);
    this.code = code;
  }
}

/** True when `error` is a TestSupportError, optionally with the given code. */
export function isTestSupportError(error: unknown, code?: TestSupportErrorCode): error is TestSupportError {
  return error instanceof TestSupportError && (code === undefined || error.code === code);
}

/** An error's message without a trailing period, for embedding in a sentence; AggregateErrors list their parts. */
export function errorText(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0)
    return error.errors.map(errorText).join("; ");
  const text = error instanceof Error ? error.message || error.name : String(error);
  return text.replace(/[.\s]+$/, "");
}
