/** An error the in-memory OpenFGA answers with: the HTTP status and the body's code and message, as the real server sends them. */
export class FgaServerError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  /** The JSON body the real server sends for this error. */
  body(): { code: string; message: string } {
    return { code: this.code, message: this.message };
  }
}

export const validationError = (message: string) => new FgaServerError(400, "validation_error", message);
export const invalidTuple = (message: string) => new FgaServerError(400, "invalid_tuple", message);
export const typeNotFound = (type: string) =>
  new FgaServerError(400, "type_not_found", `type '${type}' not found`);
export const relationNotFound = (type: string, relation: string) =>
  new FgaServerError(400, "relation_not_found", `relation '${type}#${relation}' not found`);
export const resolutionTooComplex = () =>
  new FgaServerError(
    400,
    "authorization_model_resolution_too_complex",
    "Authorization Model resolution required too many rewrite rules to be resolved. Try simplifying your authorization model.",
  );
