/**
 * A problem with what the operator gave the stack (files, folders), as opposed to a
 * bug: main.ts prints its message without a stack trace.
 */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}
