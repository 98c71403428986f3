/** One offending field of a rejected request. */
export interface FieldError {
  readonly field: string;
  readonly message: string;
}

/** An error that is already a problem document: status, stable code, safe text. */
export class ProblemException extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail: string,
    readonly extensions: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }
}
