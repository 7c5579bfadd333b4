// For unit tests of refusals: the UserError a call throws, so its message, hint and location can be checked.
import { isUserError, type UserError } from "../../src/errors.js";

/** The UserError `fn` throws; anything else it throws, or nothing thrown, fails the test. */
export function userError(fn: () => unknown): UserError {
  try {
    fn();
  } catch (error) {
    if (isUserError(error)) return error;
    throw error;
  }
  throw new Error("expected a UserError");
}
