/** An error whose message is safe and useful to show a user; `code` is stable for scripts. */
export class UserError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: 400 | 401 | 403 | 404 | 409 | 422 = 400,
  ) {
    super(message);
    this.name = "UserError";
  }
}

export class NotFoundError extends UserError {
  constructor(what: string) {
    super("not_found", `${what} not found`, 404);
    this.name = "NotFoundError";
  }
}
